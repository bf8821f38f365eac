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
    public byte Family;
    public byte Reserved;
    public uint Id;
}

/// <summary>struct sched_state.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SchedState
{
    public ulong RrCounter;
}
