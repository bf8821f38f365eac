using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using XdpLb.Core.Model;

namespace XdpLb.Ipvs;

/// <summary>
/// The node around IPVS, set up the way kube-proxy's IPVS mode does (docs/kube-proxy.md §1,
/// §2.1, §5): its sysctls; a dummy interface holding the VIPs (kube-ipvs0's role) so the node
/// accepts their traffic for IPVS; one nftables table of xdplb's own that marks masq
/// services' traffic and masquerades it after IPVS, and drops sources outside a service's
/// sourceRanges; and the deletion of stale UDP conntrack entries of removed backends.
/// </summary>
public sealed class IpvsHost(HostCommands commands, string dummyInterface = IpvsHost.DefaultInterface)
{
    public const string DefaultInterface = "xdplb-ipvs0";
    public const string NftTable = "xdplb_ipvs";
    private const uint MasqMark = 0x4000; // kube-proxy's masqueradeBit 14

    public string DummyInterface { get; } = dummyInterface;

    public static readonly IReadOnlyList<(string Name, string Value)> Sysctls =
    [
        ("net.ipv4.vs.conntrack", "1"),            // conntrack sees IPVS connections: masquerade needs it
        ("net.ipv4.vs.expire_nodest_conn", "1"),   // a removed backend's connections end at once
        ("net.ipv4.vs.expire_quiescent_template", "1"),
        ("net.ipv4.ip_forward", "1"),
    ];

    public void Setup()
    {
        foreach (var (name, value) in Sysctls)
            commands.WriteSysctl(name, value);
        if (!InterfaceExists())
            commands.Run("ip", "link", "add", DummyInterface, "type", "dummy");
        commands.Run("ip", "link", "set", DummyInterface, "up");
    }

    /// <summary>
    /// kube-proxy's ipvs.strictARP: the node answers ARP only for addresses of the interface
    /// asked on, so the VIPs on the dummy interface are left to whoever announces them (MetalLB).
    /// </summary>
    public void SetStrictArp()
    {
        commands.WriteSysctl("net.ipv4.conf.all.arp_ignore", "1");
        commands.WriteSysctl("net.ipv4.conf.all.arp_announce", "2");
    }

    private bool InterfaceExists() => Directory.Exists($"/sys/class/net/{DummyInterface}");

    /// <summary>Binds exactly these addresses to the dummy interface (adds the missing, removes the rest).</summary>
    public void BindAddresses(IReadOnlySet<IPAddress> wanted)
    {
        var bound = BoundAddresses();
        foreach (var a in wanted.Where(a => !bound.Contains(a)))
            commands.Run("ip", a.AddressFamily == AddressFamily.InterNetworkV6
                ? ["-6", "addr", "add", $"{a}/128", "dev", DummyInterface, "nodad"]
                : ["addr", "add", $"{a}/32", "dev", DummyInterface]);
        foreach (var a in bound.Where(a => !wanted.Contains(a)))
            commands.Run("ip", "addr", "del", a.AddressFamily == AddressFamily.InterNetworkV6 ? $"{a}/128" : $"{a}/32", "dev", DummyInterface);
    }

    public HashSet<IPAddress> BoundAddresses()
    {
        var json = commands.Run("ip", "-j", "addr", "show", "dev", DummyInterface);
        var result = new HashSet<IPAddress>();
        foreach (var link in JsonDocument.Parse(json).RootElement.EnumerateArray())
            if (link.TryGetProperty("addr_info", out var infos))
                foreach (var info in infos.EnumerateArray())
                    if (info.TryGetProperty("local", out var local) && IPAddress.TryParse(local.GetString(), out var a) && !a.IsIPv6LinkLocal)
                        result.Add(a);
        return result;
    }

    /// <summary>The nftables table for these services, replaced as a whole in one transaction.</summary>
    public void ApplyRules(IEnumerable<Service> services, PortRange masqPorts, IReadOnlyList<string>? clusterCidrs = null,
        IReadOnlySet<IPAddress>? bound = null) =>
        commands.Run("nft", ["-f", "-"], Ruleset(services, masqPorts, clusterCidrs ?? [], bound));

    /// <param name="bound">The VIPs on the dummy interface: new connections to them on any other port are refused.</param>
    internal static string Ruleset(IEnumerable<Service> services, PortRange masqPorts, IReadOnlyList<string>? clusterCidrs = null,
        IReadOnlySet<IPAddress>? bound = null)
    {
        clusterCidrs ??= [];
        bound ??= new HashSet<IPAddress>();
        var localMarks = new StringBuilder();
        var servedPorts = new List<ServiceKey>();
        var marks = new StringBuilder();
        var filters = new StringBuilder();
        var loopback = new StringBuilder();
        foreach (var s in services.Where(s => s.Key is not null).OrderBy(s => s.Key!.ToString(), StringComparer.Ordinal))
        {
            string match = Match(s.Key!);
            servedPorts.Add(s.Key!);
            // The node reaching a service from the VIP itself (the source the kernel picks for a
            // VIP on the dummy interface): unSNATed, the answer would stay on the backend's node
            // (kube-proxy's KUBE-CLUSTER-IP src,dst rule).
            if (s.Forwarding == Forwarding.Nat && bound.Contains(s.Key!.Address))
            {
                string f = s.Key.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
                localMarks.Append($"        {f} saddr {s.Key.Address} ").Append(match).Append($" meta mark set meta mark | 0x{MasqMark:x}\n");
            }
            if (s.Forwarding == Forwarding.Masq)
                marks.Append("        ").Append(match).Append($" meta mark set meta mark | 0x{MasqMark:x}\n");
            // kube-proxy's local-traffic detector: ClusterIP traffic from outside the pod ranges.
            else if (s.MasqueradeOutsideCluster)
            {
                string family = s.Key!.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
                var ranges = clusterCidrs.Where(c => IPNetwork.TryParse(c, out var n) && n.BaseAddress.AddressFamily == s.Key.Address.AddressFamily).ToList();
                marks.Append("        ").Append(match)
                    .Append(ranges.Count == 0 ? "" : $" {family} saddr != {{ {string.Join(", ", ranges)} }}")
                    .Append($" meta mark set meta mark | 0x{MasqMark:x}\n");
            }
            // A backend reaching its own service: unSNATed, its answer to itself would never
            // come back through IPVS (kube-proxy's KUBE-LOOP-BACK).
            if (s.Forwarding is Forwarding.Nat or Forwarding.Masq)
                foreach (var b in s.Backends)
                {
                    string f = b.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
                    loopback.Append($"        {f} saddr {b.Address} {f} daddr {b.Address} {Names.Of(s.Protocol)} dport {b.Port} masquerade to :{masqPorts.First}-{masqPorts.Last}\n");
                }
            if (s.SourceRanges.Count > 0)
            {
                string family = s.Key!.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
                filters.Append("        ").Append(match).Append($" {family} saddr != {{ {string.Join(", ", s.SourceRanges)} }} drop\n");
            }
        }
        // "table; delete table; table {...}": one transaction that replaces the table whether
        // it existed or not, so no packet sees half a ruleset.
        return $$"""
            table inet {{NftTable}}
            delete table inet {{NftTable}}
            table inet {{NftTable}} {
                chain source_ranges {
                    type filter hook prerouting priority -160; policy accept;
            {{filters}}    }
                chain mark_masq {
                    type filter hook prerouting priority -110; policy accept;
            {{marks}}    }
                chain mark_masq_local {
                    type route hook output priority -110; policy accept;
            {{marks}}{{localMarks}}    }
                chain filter_vips {
                    type filter hook input priority filter; policy accept;
            {{VipFilter(bound, servedPorts)}}    }
                chain masq_postrouting {
                    type nat hook postrouting priority srcnat; policy accept;
                    meta mark & 0x{{MasqMark:x}} == 0x{{MasqMark:x}} meta l4proto { tcp, udp, sctp } meta mark set meta mark & 0x{{~MasqMark:x}} masquerade to :{{masqPorts.First}}-{{masqPorts.Last}}
                    meta mark & 0x{{MasqMark:x}} == 0x{{MasqMark:x}} meta mark set meta mark & 0x{{~MasqMark:x}} masquerade
            {{loopback}}    }
            }

            """;
    }

    /// <summary>
    /// kube-proxy's KUBE-IPVS-FILTER (#72236): a VIP on the dummy interface is a local address,
    /// so without this every port of the node (kubelet, sshd) would answer on every ClusterIP.
    /// New connections to a bound VIP on a port that is no virtual server of it are refused
    /// (this runs before IPVS takes its own at LOCAL_IN).
    /// </summary>
    private static string VipFilter(IReadOnlySet<IPAddress> bound, IReadOnlyList<ServiceKey> served)
    {
        var rules = new StringBuilder();
        foreach (var (family, type) in new[] { (AddressFamily.InterNetwork, "ip"), (AddressFamily.InterNetworkV6, "ip6") })
        {
            var vips = bound.Where(a => a.AddressFamily == family).Select(a => a.ToString()).Order(StringComparer.Ordinal).ToList();
            if (vips.Count == 0)
                continue;
            var ports = served.Where(k => k.Address.AddressFamily == family && bound.Contains(k.Address))
                .Select(k => $"{k.Address} . {Names.Of(k.Protocol)} . {k.Port}").Order(StringComparer.Ordinal).ToList();
            rules.Append($"        {type} daddr {{ {string.Join(", ", vips)} }} ct state new");
            if (ports.Count > 0)
                rules.Append($" {type} daddr . meta l4proto . th dport != {{ {string.Join(", ", ports)} }}");
            rules.Append(" reject\n");
        }
        return rules.ToString();
    }

    private static string Match(ServiceKey k)
    {
        string family = k.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";
        string proto = Names.Of(k.Protocol);
        return $"{family} daddr {k.Address} {proto} dport {k.Port}";
    }

    /// <summary>Removes the table and the dummy interface (xdplb cleanup, or --detach-on-exit).</summary>
    public void Remove()
    {
        try
        {
            commands.Run("nft", "delete", "table", "inet", NftTable);
        }
        catch (InvalidOperationException)
        {
            // Not there: nothing to remove.
        }
        if (InterfaceExists())
            commands.Run("ip", "link", "del", DummyInterface);
    }

    /// <summary>
    /// Deletes the netfilter connection entries of UDP flows from a service to a backend it
    /// no longer has, as kube-proxy does: otherwise a client whose datagrams keep the entry
    /// alive (DNS) goes on being sent to the removed backend.
    /// </summary>
    public void ForgetUdpFlows(ServiceKey service, IPAddress backend)
    {
        try
        {
            commands.Run("conntrack", "-D", "-f", service.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4",
                "-p", "udp", "--orig-dst", service.Address.ToString(), "--orig-port-dst", service.Port.ToString(),
                "--reply-src", backend.ToString());
        }
        catch (InvalidOperationException e) when (e.Message.Contains("0 flow entries", StringComparison.Ordinal))
        {
            // Nothing to forget.
        }
    }

    /// <summary>
    /// Deletes every netfilter entry of UDP flows to a service that had no backend: datagrams
    /// sent meanwhile left entries that would keep their flows away from the new backends
    /// (kube-proxy clears them when a UDP service goes from 0 to N endpoints).
    /// </summary>
    public void ForgetUdpServiceFlows(ServiceKey service)
    {
        try
        {
            commands.Run("conntrack", "-D", "-f", service.Address.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4",
                "-p", "udp", "--orig-dst", service.Address.ToString(), "--orig-port-dst", service.Port.ToString());
        }
        catch (InvalidOperationException e) when (e.Message.Contains("0 flow entries", StringComparison.Ordinal))
        {
            // Nothing to forget.
        }
    }
}
