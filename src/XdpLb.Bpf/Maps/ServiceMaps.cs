using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/maps.h; BtfLayout checks them against the object at load.

/// <summary>struct service_key.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ServiceMapKey
{
    public LbAddr Addr;
    public ushort Port;
    public byte Proto;
    public byte Family;
}

/// <summary>struct service.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ServiceValue
{
    public uint Id;
    public uint BackendCount;
    public uint Generation;
    public byte Scheduler;
    public byte Flags;
    public ushort Reserved;
}

/// <summary>struct slot_key.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SlotKey
{
    public uint ServiceId;
    public uint Generation;
    public uint Index;
}

/// <summary>struct backend.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BackendValue
{
    public LbAddr Addr;
    public ushort Port;
    public ushort Weight;
    public uint Id;
    public byte Family;
    public byte Reserved;
    public ushort Reserved2;
}

/// <summary>struct table_key.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TableKey
{
    public uint ServiceId;
    public uint Generation;
}

[InlineArray(256)]
public struct BucketSlots
{
    private ushort element;
}

[InlineArray(4096)]
public struct MaglevSlots
{
    private ushort element;
}

/// <summary>struct bucket_table: sh/dh buckets, slot index or <see cref="Empty"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BucketTable
{
    public const ushort Empty = 0xffff;
    public BucketSlots Slots;
}

[InlineArray(4096)]
public struct WrrWeights
{
    private ushort element;
}

[InlineArray(64)]
public struct WrrBlockMaxima
{
    private ushort element;
}

/// <summary>struct wrr_table: weights in list order, block maxima, mw and di.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WrrTable
{
    public const int MaxDests = 4096, Block = 64;
    public uint MaxWeight;
    public uint Step;
    public WrrWeights Weights;
    public WrrBlockMaxima BlockMax;
}

/// <summary>struct maglev_table: the 4093 Maglev slots (of 4096), slot index or <see cref="BucketTable.Empty"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MaglevTable
{
    public MaglevSlots Slots;
}

/// <summary>struct sched_state.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SchedState
{
    public ulong RrCounter;
    /// <summary>ip_vs_wrr's position: cursor + 1 (0: list head) in the low 32 bits, cw in the high 32.</summary>
    public ulong WrrPosition;
}

/// <summary>struct source_range_key (bpf/lib/source_ranges.h): an LPM-trie key, service id then address.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SourceRangeKey
{
    public uint Prefixlen;
    public uint ServiceId;
    public LbAddr Addr;
}
