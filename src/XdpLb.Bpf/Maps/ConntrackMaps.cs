using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XdpLb.Bpf.Btf;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/maps.h (the connection table's companions), and of the sweeper's arguments (bpf/xdplb.bpf.c).

[InlineArray(16)]
public struct StateTimeouts
{
    private uint element;
}

/// <summary>struct conntrack_config: IPVS's timeouts per state, and the sizes the agent chose.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ConntrackConfig
{
    /// <summary>Seconds, by <see cref="TcpState"/>; 0: never.</summary>
    [BtfField("tcp_timeout_s")] public StateTimeouts TcpTimeoutSeconds;
    [BtfField("udp_timeout_s")] public uint UdpTimeoutSeconds;
    /// <summary>The reclaim ring's size - 1 (a power of two - 1).</summary>
    public uint RingMask;
    /// <summary>The sweep index's windows (its max_entries).</summary>
    public uint IndexWindows;
    public uint Reserved;
}

/// <summary>struct conntrack_tags: tags given out (also the reclaim ring's head), and its tail.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ConntrackTags
{
    public ulong Next;
    public ulong Reclaimed;
}

[InlineArray(IndexWindow.Ways)]
public struct IndexWords
{
    private uint element;
}

[InlineArray(IndexWindow.Ways)]
public struct IndexKinds
{
    private byte element;
}

[InlineArray(IndexWindow.Ways)]
public struct IndexKeys
{
    private FlowKey element;
}

/// <summary>struct index_window: eight slots of the sweep index.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IndexWindow
{
    public const int Ways = 8;
    /// <summary>A slot being written: its tag comes next.</summary>
    public const uint Claiming = 0xffffffff;
    public IndexWords Tag;
    [BtfField("due_s")] public IndexWords DueSeconds;
    public IndexKinds Kind;
    public IndexKeys Key;
}

/// <summary>enum index_kind.</summary>
public enum IndexKind : byte
{
    Connection = 1,
    Template = 2,
}

/// <summary>struct reclaim_slot: a connection of the reclaim ring, by tag and index slot + 1.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ReclaimSlot
{
    public uint Tag;
    public uint IndexSlot;
}

/// <summary>enum ct_event of bpf/lib/xdp_maps.h (names without CT_, checked through BTF at load).</summary>
public enum ConntrackEvent : uint
{
    Opened,
    Assured,
    ExpiredIdle,
    ExpiredReused,
    ExpiredBackendRemoved,
    ReclaimedTcpHalfOpen,
    ReclaimedUdpUnanswered,
    RefusedFull,
    RefusedIndexFull,
    EventMax,
}

/// <summary>struct sweep_args: one run of the sweeper, in and out.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SweepArgs
{
    public uint Window;
    public uint Windows;
    public uint CheckAll;
    public uint Wrapped;
    public ulong SkewNs;
    public uint Live;
    public uint Ended;
}
