using System.Runtime.InteropServices;
using XdpLb.Bpf.Btf;

namespace XdpLb.Bpf.Maps;

// Twins of bpf/lib/flow.h (the connection table's key and value; the map is in maps.h).

/// <summary>struct flow_key: a packet's own 5-tuple.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlowKey
{
    [BtfField("saddr")] public LbAddr SourceAddr;
    [BtfField("daddr")] public LbAddr DestAddr;
    [BtfField("sport")] public ushort SourcePort;
    [BtfField("dport")] public ushort DestPort;
    public byte Proto;
    public byte Family;
    public ushort Reserved;
}

public enum FlowDirection : byte
{
    Request = 0,
    Reply = 1,
}

/// <summary>struct flow.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlowValue
{
    public LbAddr NatAddr;
    public ushort NatPort;
    public FlowDirection Direction;
    public FlowFlags Flags;
    public TcpState State;
    public uint BackendId;
    public uint ServiceId;
    public ulong LastSeenNs;
    /// <summary>Masq only. Request: the node's address and port the client's source became; reply: the client's.</summary>
    public LbAddr MasqAddr;
    public ushort MasqPort;
    /// <summary>The 802.1Q TCI of the client's frames; 0: untagged.</summary>
    public ushort VlanTci;
    /// <summary>Request entry: names the connection in the sweep index and the reclaim ring.</summary>
    public uint Tag;
    /// <summary>Request entry: its slot in the sweep index + 1; 0: none.</summary>
    public uint IndexSlot;
}

/// <summary>enum tcp_state of bpf/lib/tcp_state.h: IPVS's IP_VS_TCP_S_* numbering.</summary>
public enum TcpState : uint
{
    None,
    Established,
    SynSent,
    SynRecv,
    FinWait,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Synack,
    Max,
}

/// <summary>struct fragment_key (bpf/lib/xdp_maps.h): a datagram's fragments as they arrive.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FragmentKey
{
    [BtfField("saddr")] public LbAddr SourceAddr;
    [BtfField("daddr")] public LbAddr DestAddr;
    public uint Id;
    public byte Proto;
    public byte Family;
    public ushort Reserved;
}

/// <summary>struct fragment_nat: how the datagram's first fragment was rewritten.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FragmentNat
{
    public LbAddr NatAddr;
    public uint BackendId;
    public FlowDirection Direction;
    public FlowFlags Flags;
    public ushort VlanTci;
    public LbAddr MasqAddr;
}
