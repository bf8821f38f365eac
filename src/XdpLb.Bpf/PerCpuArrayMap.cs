using System.Runtime.CompilerServices;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>A BPF_MAP_TYPE_PERCPU_ARRAY: one value per possible CPU for each index.</summary>
public sealed unsafe class PerCpuArrayMap<TValue> where TValue : unmanaged
{
    private readonly int cpus;
    private readonly int stride;

    internal PerCpuArrayMap(string name, BpfFdHandle fd, uint maxEntries)
    {
        Name = name;
        Fd = fd;
        MaxEntries = maxEntries;
        cpus = BpfException.Check(LibBpf.NumPossibleCpus(), "counting possible CPUs");
        // The kernel copies per-CPU values at 8-byte strides.
        stride = (Unsafe.SizeOf<TValue>() + 7) & ~7;
    }

    public string Name { get; }
    public BpfFdHandle Fd { get; }
    public uint MaxEntries { get; }

    public TValue[] Lookup(uint index)
    {
        byte[] buffer = new byte[stride * cpus];
        fixed (byte* b = buffer)
        {
            BpfException.Check(LibBpf.MapLookupElem(Fd, &index, b), $"looking up index {index} of map {Name}");
            var values = new TValue[cpus];
            for (int cpu = 0; cpu < cpus; cpu++)
                values[cpu] = Unsafe.Read<TValue>(b + cpu * stride);
            return values;
        }
    }

    /// <summary>
    /// The values of indexes [0, count), each summed over the CPUs by <paramref name="sum"/>,
    /// read in batches (BPF_MAP_LOOKUP_BATCH) rather than one syscall per index.
    /// </summary>
    public TValue[] ReadSummed(uint count, Func<TValue, TValue, TValue> sum, int batchSize = 1024)
    {
        var result = new TValue[count];
        ReadSummed(result, sum, batchSize);
        return result;
    }

    /// <summary>As <see cref="ReadSummed(uint, Func{TValue, TValue, TValue}, int)"/>, into indexes [0, result.Length) of a buffer the caller keeps.</summary>
    public void ReadSummed(Span<TValue> result, Func<TValue, TValue, TValue> sum, int batchSize = 1024)
    {
        uint count = (uint)result.Length;
        var keys = new uint[batchSize];
        byte[] buffer = new byte[(long)stride * cpus * batchSize];
        uint inBatch = 0, outBatch = 0;
        bool first = true;
        var opts = new BpfMapBatchOpts { Size = (nuint)sizeof(BpfMapBatchOpts) };
        while (true)
        {
            uint n = (uint)batchSize;
            int rc;
            fixed (uint* k = keys)
            fixed (byte* v = buffer)
                rc = LibBpf.MapLookupBatch(Fd, first ? null : &inBatch, &outBatch, k, v, &n, &opts);
            if (rc < 0 && rc != -2 /* ENOENT: the end */)
                BpfException.Check(rc, $"reading map {Name} in batches");
            fixed (byte* v = buffer)
            {
                for (int i = 0; i < n; i++)
                {
                    if (keys[i] >= count)
                        return;
                    TValue total = default;
                    for (int cpu = 0; cpu < cpus; cpu++)
                        total = sum(total, Unsafe.Read<TValue>(v + ((long)i * cpus + cpu) * stride));
                    result[(int)keys[i]] = total;
                }
            }
            if (rc < 0)
                return;
            inBatch = outBatch;
            first = false;
        }
    }

    /// <summary>Writes every CPU's value of one index (as many values as <see cref="Lookup"/> returns).</summary>
    public void Update(uint index, ReadOnlySpan<TValue> perCpu)
    {
        if (perCpu.Length != cpus)
            throw new ArgumentException($"map {Name} holds {cpus} values per index, not {perCpu.Length}", nameof(perCpu));
        byte[] buffer = new byte[stride * cpus];
        fixed (byte* b = buffer)
        {
            for (int cpu = 0; cpu < cpus; cpu++)
                Unsafe.Write(b + cpu * stride, perCpu[cpu]);
            BpfException.Check(LibBpf.MapUpdateElem(Fd, &index, b, 0), $"writing index {index} of map {Name}");
        }
    }

    public void Clear(uint index)
    {
        byte[] buffer = new byte[stride * cpus];
        fixed (byte* b = buffer)
            BpfException.Check(LibBpf.MapUpdateElem(Fd, &index, b, 0), $"clearing index {index} of map {Name}");
    }
}
