using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Core.Status;

/// <summary>IPVS's per-service and per-dest counters (ipvsadm --stats), and their per-second rates (--rate).</summary>
public sealed record TrafficCounters(ulong Conns = 0, ulong InPackets = 0, ulong OutPackets = 0, ulong InBytes = 0, ulong OutBytes = 0)
{
    public static TrafficCounters operator +(TrafficCounters a, TrafficCounters b) => new(
        a.Conns + b.Conns, a.InPackets + b.InPackets, a.OutPackets + b.OutPackets, a.InBytes + b.InBytes, a.OutBytes + b.OutBytes);
}

/// <summary>Connections and datagrams given a backend by the socket hooks (connect, sendmsg), which no packet counter sees.</summary>
public sealed record SocketTranslations(ulong Connects = 0, ulong Datagrams = 0);

/// <summary>A real server as ipvsadm shows it, and what the socket hooks sent it (null where there are none: IPVS).</summary>
public sealed record RealServer(IPAddress Address, ushort Port, Forwarding Forwarding, ushort Weight, uint ActiveConns, uint InactiveConns,
    TrafficCounters Stats, TrafficCounters Rate, SocketTranslations? Socket = null);

/// <summary>A virtual server as ipvsadm shows it; the same for the XDP and the IPVS dataplane.</summary>
public sealed record VirtualServer(Protocol Protocol, IPAddress Address, ushort Port, Scheduler Scheduler, IReadOnlyList<SchedulerFlag> Flags,
    uint Persistence, IReadOnlyList<RealServer> RealServers, TrafficCounters Stats, TrafficCounters Rate);

/// <summary>A connection as `ipvsadm -Lnc` shows it.</summary>
public sealed record ConnectionEntry(Protocol Protocol, TimeSpan Expires, string State, IPAddress Client, ushort ClientPort,
    IPAddress Virtual, ushort VirtualPort, IPAddress Destination, ushort DestinationPort);
