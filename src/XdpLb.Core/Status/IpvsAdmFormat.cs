using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using XdpLb.Core.Model;

namespace XdpLb.Core.Status;

/// <summary>
/// The text of `ipvsadm -Ln`, `--stats`, `--rate` and `-Lnc` (ipvsadm 1.31, docs/ipvs.md §7),
/// byte for byte, so that scripts parsing ipvsadm's output work on xdplb's.
/// </summary>
public static class IpvsAdmFormat
{
    public static string List(IReadOnlyList<VirtualServer> services, uint tableSize)
    {
        var sb = Title(tableSize);
        sb.Append("Prot LocalAddress:Port Scheduler Flags\n");
        sb.Append("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
        foreach (var s in Sorted(services))
        {
            sb.Append(ServiceName(s)).Append(' ').Append(Names.Of(s.Scheduler));
            if (s.Flags.Count > 0)
                sb.Append(" (").Append(string.Join(",", s.Flags.Select(Names.Of).Order(StringComparer.Ordinal))).Append(')');
            if (s.Persistence > 0)
                sb.Append(" persistent ").Append(s.Persistence.ToString(CultureInfo.InvariantCulture));
            sb.Append('\n');
            foreach (var d in SortedDests(s))
                sb.Append(CultureInfo.InvariantCulture, $"  -> {Endpoint(d.Address, d.Port),-28} {ForwardName(d.Forwarding),-7} {d.Weight,-6} {d.ActiveConns,-10} {d.InactiveConns,-10}\n");
        }
        return sb.ToString();
    }

    public static string Stats(IReadOnlyList<VirtualServer> services, uint tableSize) =>
        Counters(services, tableSize, ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"], s => s.Stats, d => d.Stats);

    public static string Rate(IReadOnlyList<VirtualServer> services, uint tableSize) =>
        Counters(services, tableSize, ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"], s => s.Rate, d => d.Rate);

    public static string Connections(IReadOnlyList<ConnectionEntry> connections)
    {
        var sb = new StringBuilder("IPVS connection entries\n");
        sb.Append("pro expire state       source             virtual            destination\n");
        foreach (var c in connections)
        {
            string expire = $"{(int)c.Expires.TotalMinutes:00}:{c.Expires.Seconds:00}";
            sb.Append(CultureInfo.InvariantCulture,
                $"{ProtocolName(c.Protocol),-3} {expire,-6} {c.State,-11} {Endpoint(c.Client, c.ClientPort),-18} {Endpoint(c.Virtual, c.VirtualPort),-18} {Endpoint(c.Destination, c.DestinationPort)}\n");
        }
        return sb.ToString();
    }

    private static string Counters(IReadOnlyList<VirtualServer> services, uint tableSize, string[] labels,
        Func<VirtualServer, TrafficCounters> ofService, Func<RealServer, TrafficCounters> ofDest)
    {
        var sb = Title(tableSize);
        sb.Append(CultureInfo.InvariantCulture, $"{"Prot LocalAddress:Port",-33} {labels[0],8} {labels[1],8} {labels[2],8} {labels[3],8} {labels[4],8}\n");
        sb.Append("  -> RemoteAddress:Port\n");
        foreach (var s in Sorted(services))
        {
            sb.Append(CultureInfo.InvariantCulture, $"{ServiceName(s),-33}");
            Numbers(sb, ofService(s));
            foreach (var d in SortedDests(s))
            {
                sb.Append(CultureInfo.InvariantCulture, $"  -> {Endpoint(d.Address, d.Port),-28}");
                Numbers(sb, ofDest(d));
            }
        }
        return sb.ToString();
    }

    private static void Numbers(StringBuilder sb, TrafficCounters c)
    {
        foreach (var n in new[] { c.Conns, c.InPackets, c.OutPackets, c.InBytes, c.OutBytes })
            sb.Append(LargeNumber(n));
        sb.Append('\n');
    }

    /// <summary>ipvsadm's print_largenum: 9 wide; from 10^8 on, scaled to K, M, G or T by its thresholds.</summary>
    public static string LargeNumber(ulong n) => n switch
    {
        < 100_000_000UL => n.ToString(CultureInfo.InvariantCulture).PadLeft(9),
        < 1_000_000_000UL => Scaled(n / 1_000UL, 'K'),
        < 100_000_000_000UL => Scaled(n / 1_000_000UL, 'M'),
        < 100_000_000_000_000UL => Scaled(n / 1_000_000_000UL, 'G'),
        _ => Scaled(n / 1_000_000_000_000UL, 'T'),
    };

    private static string Scaled(ulong n, char unit) => n.ToString(CultureInfo.InvariantCulture).PadLeft(8) + unit;

    private static StringBuilder Title(uint tableSize) =>
        new StringBuilder().Append(CultureInfo.InvariantCulture, $"IP Virtual Server version 1.2.1 (size={tableSize})\n");

    internal static string ServiceName(VirtualServer s) => $"{ProtocolName(s.Protocol),-4} {Endpoint(s.Address, s.Port)}";

    private static string ProtocolName(Protocol p) => p switch
    {
        Protocol.Tcp => "TCP",
        Protocol.Udp => "UDP",
        Protocol.Sctp => "SCTP",
        _ => "?",
    };

    private static string ForwardName(Forwarding f) => f switch
    {
        Forwarding.Nat or Forwarding.Masq => "Masq",
        Forwarding.Dr => "Route",
        Forwarding.Tun => "Tunnel",
        _ => "?",
    };

    internal static string Endpoint(IPAddress a, ushort port) =>
        a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{a}]:{port}" : $"{a}:{port}";

    // ipvsadm sorts services by family, protocol number, address (as a number), port; dests by address, port.
    internal static IEnumerable<VirtualServer> Sorted(IEnumerable<VirtualServer> services) => services
        .OrderBy(s => s.Address.AddressFamily == AddressFamily.InterNetwork ? 0 : 1)
        .ThenBy(s => ProtocolNumber(s.Protocol))
        .ThenBy(s => s.Address, AddressComparer.Instance)
        .ThenBy(s => s.Port);

    internal static IEnumerable<RealServer> SortedDests(VirtualServer s) =>
        s.RealServers.OrderBy(d => d.Address, AddressComparer.Instance).ThenBy(d => d.Port);

    private static int ProtocolNumber(Protocol p) => p switch { Protocol.Tcp => 6, Protocol.Udp => 17, _ => 132 };

    private sealed class AddressComparer : IComparer<IPAddress>
    {
        public static readonly AddressComparer Instance = new();

        public int Compare(IPAddress? x, IPAddress? y) =>
            x!.GetAddressBytes().AsSpan().SequenceCompareTo(y!.GetAddressBytes());
    }
}
