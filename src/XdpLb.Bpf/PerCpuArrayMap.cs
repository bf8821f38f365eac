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
            BpfException.Check(LibBpf.MapLookupElem(Fd.Fd, &index, b), $"looking up index {index} of map {Name}");
            var values = new TValue[cpus];
            for (int cpu = 0; cpu < cpus; cpu++)
                values[cpu] = Unsafe.Read<TValue>(b + cpu * stride);
            return values;
        }
    }

    public void Clear(uint index)
    {
        byte[] buffer = new byte[stride * cpus];
        fixed (byte* b = buffer)
            BpfException.Check(LibBpf.MapUpdateElem(Fd.Fd, &index, b, 0), $"clearing index {index} of map {Name}");
    }
}
