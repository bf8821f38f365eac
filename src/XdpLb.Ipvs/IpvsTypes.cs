using System.Net;

namespace XdpLb.Ipvs;

/// <summary>IP_VS_CONN_F_* forwarding methods (uapi ip_vs.h), as ipvsadm shows them.</summary>
public enum IpvsForwarding : uint
{
    Masq = 0,
    Local = 1,
    Tunnel = 2,
    Route = 3,
}

/// <summary>IP_VS_SVC_F_* (sh-/mh- flags are SCHED1/SCHED2).</summary>
[Flags]
public enum IpvsServiceFlags : uint
{
    None = 0,
    Persistent = 0x1,
    Hashed = 0x2,   // kernel-managed: every reply carries it
    OnePacket = 0x4,
    Sched1 = 0x8,   // sh-fallback, mh-fallback
    Sched2 = 0x10,  // sh-port, mh-port
    Sched3 = 0x20,
}

/// <summary>IPVS's 64-bit counters and rate estimates (IPVS_STATS_ATTR_*).</summary>
public sealed record IpvsStats(ulong Conns, ulong InPackets, ulong OutPackets, ulong InBytes, ulong OutBytes,
    ulong Cps, ulong InPps, ulong OutPps, ulong InBps, ulong OutBps)
{
    public static readonly IpvsStats Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

/// <summary>A virtual service: protocol, address and port identify it.</summary>
public sealed record IpvsService
{
    public required IPAddress Address { get; init; }
    public required ushort Port { get; init; }
    /// <summary>6 TCP, 17 UDP, 132 SCTP.</summary>
    public required byte Protocol { get; init; }
    public string Scheduler { get; init; } = "rr";
    public IpvsServiceFlags Flags { get; init; }
    /// <summary>Persistence timeout in seconds (with the Persistent flag).</summary>
    public uint Timeout { get; init; }
    public IpvsStats Stats { get; init; } = IpvsStats.Zero;

    public ushort Family => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? (ushort)2 : (ushort)10;

    public override string ToString() => $"{ProtocolName(Protocol)} {(Family == 10 ? $"[{Address}]" : Address.ToString())}:{Port}";

    internal static string ProtocolName(byte protocol) => protocol switch { 6 => "TCP", 17 => "UDP", 132 => "SCTP", _ => $"proto {protocol}" };
}

/// <summary>A real server of a virtual service.</summary>
public sealed record IpvsDestination
{
    public required IPAddress Address { get; init; }
    public required ushort Port { get; init; }
    public IpvsForwarding Forwarding { get; init; }
    public int Weight { get; init; } = 1;
    public uint UpperThreshold { get; init; }
    public uint LowerThreshold { get; init; }
    public uint ActiveConns { get; init; }
    public uint InactiveConns { get; init; }
    public uint PersistentConns { get; init; }
    public IpvsStats Stats { get; init; } = IpvsStats.Zero;

    public ushort Family => Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? (ushort)2 : (ushort)10;

    public override string ToString() => Family == 10 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}

/// <summary>ipvsadm --set: seconds; 0 leaves a value as it is.</summary>
public sealed record IpvsTimeouts(uint Tcp, uint TcpFin, uint Udp);

/// <summary>GET_INFO: the IPVS version code (0x010201) and the connection table size.</summary>
public sealed record IpvsInfo(uint Version, uint ConnectionTableSize);
