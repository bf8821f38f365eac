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
}
