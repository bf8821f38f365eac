using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/maps.h; BtfLayout checks them against the object at load.

/// <summary>struct service_key.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ServiceMapKey : IEquatable<ServiceMapKey>
{
    public LbAddr Addr;
    public ushort Port;
    public byte Proto;
    public byte Family;

    // A dictionary key in the full sync's copy of the map: without these, every probe boxes.
    public readonly bool Equals(ServiceMapKey other) => Addr.Equals(other.Addr) && Port == other.Port && Proto == other.Proto && Family == other.Family;
    public override readonly bool Equals(object? obj) => obj is ServiceMapKey other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(Addr, Port, Proto, Family);
}

/// <summary>struct service.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ServiceValue : IEquatable<ServiceValue>
{
    public uint Id;
    public uint BackendCount;
    public uint Generation;
    public byte Scheduler;
    public ServiceFlags Flags;
    public ushort Reserved;

    // Written out: the full sync compares every service, and ValueType's reflection-based
    // Equals made that a visible share of the idle agent's CPU at 10,000 services.
    public readonly bool Equals(ServiceValue other) => Id == other.Id && BackendCount == other.BackendCount
        && Generation == other.Generation && Scheduler == other.Scheduler && Flags == other.Flags && Reserved == other.Reserved;
    public override readonly bool Equals(object? obj) => obj is ServiceValue other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(Id, BackendCount, Generation, Scheduler, Flags, Reserved);
}

/// <summary>struct slot_key.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SlotKey : IEquatable<SlotKey>
{
    public uint ServiceId;
    public uint Generation;
    public uint Index;

    // A dictionary key in the full sync's copy of the map (see ServiceMapKey).
    public readonly bool Equals(SlotKey other) => ServiceId == other.ServiceId && Generation == other.Generation && Index == other.Index;
    public override readonly bool Equals(object? obj) => obj is SlotKey other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(ServiceId, Generation, Index);
}

/// <summary>struct backend.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BackendValue : IEquatable<BackendValue>
{
    public LbAddr Addr;
    public ushort Port;
    public ushort Weight;
    public uint Id;
    public byte Family;
    public byte Reserved;
    public ushort Reserved2;

    // Written out for the full sync's comparison of every backend slot (see ServiceValue).
    public readonly bool Equals(BackendValue other) => Addr.Equals(other.Addr) && Port == other.Port && Weight == other.Weight
        && Id == other.Id && Family == other.Family && Reserved == other.Reserved && Reserved2 == other.Reserved2;
    public override readonly bool Equals(object? obj) => obj is BackendValue other && Equals(other);
    public override readonly int GetHashCode() => HashCode.Combine(Addr, Port, Weight, Id, Family);
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

/// <summary>struct source_range_key (bpf/lib/xdp_maps.h): an LPM-trie key, service id then address.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SourceRangeKey
{
    public uint Prefixlen;
    public uint ServiceId;
    public LbAddr Addr;
}
