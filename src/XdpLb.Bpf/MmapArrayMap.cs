using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>
/// A BPF_F_MMAPABLE array mapped into this process: reads and atomic updates go straight
/// to the memory the BPF program uses, so the control plane can adjust a counter with the
/// same atomicity as the data path's __sync_fetch_and_add.
/// </summary>
public sealed unsafe class MmapArrayMap<TValue> : IDisposable where TValue : unmanaged
{
    private readonly IntPtr memory;
    private readonly nuint length;
    // The kernel lays an array's values out 8-byte aligned (round_up(value_size, 8)).
    private static readonly uint Stride = ((uint)Unsafe.SizeOf<TValue>() + 7) & ~7u;

    internal MmapArrayMap(string name, BpfFdHandle fd, uint maxEntries)
    {
        Name = name;
        MaxEntries = maxEntries;
        length = (nuint)((long)Stride * maxEntries + Environment.SystemPageSize - 1) & ~(nuint)(Environment.SystemPageSize - 1);
        memory = Libc.Mmap(IntPtr.Zero, length, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared, fd, 0);
        if (memory == new IntPtr(-1))
            throw new BpfException($"mmap of map {name} (it must be created with BPF_F_MMAPABLE)", Marshal.GetLastPInvokeError());
    }

    public string Name { get; }
    public uint MaxEntries { get; }

    public ref TValue this[uint index]
    {
        get
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxEntries);
            return ref Unsafe.AsRef<TValue>((void*)(memory + (nint)((ulong)index * Stride)));
        }
    }

    private bool disposed;

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        Libc.Munmap(memory, length);
    }
}
