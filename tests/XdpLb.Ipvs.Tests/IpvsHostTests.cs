using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Ipvs.Tests;

/// <summary>The nftables table beside IPVS and the host commands the dataplane gives, without a kernel.</summary>
public sealed class IpvsHostTests
{
    private sealed class RecordingCommands : HostCommands
    {
        public List<string> Calls { get; } = [];
        public string Addresses { get; set; } = "[]";

        public override string Run(string file, IReadOnlyList<string> args, string? stdin)
        {
            Calls.Add($"{file} {string.Join(' ', args)}");
            return args.Contains("-j") ? Addresses : "";
        }
    }

    [Fact]
    public void MasqServicesAreMarkedAndMasqueradedInTheirPortRange()
    {
        var masq = new Service { Address = IPAddress.Parse("10.96.0.11"), Port = 80, Forwarding = Forwarding.Masq };
        var nat = new Service { Address = IPAddress.Parse("10.96.0.10"), Port = 53, Protocol = Protocol.Udp };
        var ranged = new Service { Address = IPAddress.Parse("fd00:96::10"), Port = 443, SourceRanges = ["fd00:1::/64", "fd00:2::/64"] };

        string rules = IpvsHost.Ruleset([masq, nat, ranged], new PortRange(40000, 40999));

        Assert.Contains("ip daddr 10.96.0.11 tcp dport 80 meta mark set meta mark | 0x4000", rules);
        Assert.DoesNotContain("10.96.0.10", rules);                                    // nat: no rule at all
        Assert.Contains("masquerade to :40000-40999", rules);
        Assert.Contains("ip6 daddr fd00:96::10 tcp dport 443 ip6 saddr != { fd00:1::/64, fd00:2::/64 } drop", rules);
        Assert.StartsWith("table inet xdplb_ipvs\ndelete table inet xdplb_ipvs\n", rules); // replaced in one transaction
    }

    [Fact]
    public void MasqueradeOutsideClusterMarksOnlyClientsOutsideTheClusterCidrsOfTheServicesFamily()
    {
        var v4 = new Service { Address = IPAddress.Parse("10.96.0.10"), Port = 80, MasqueradeOutsideCluster = true };
        var v6 = new Service { Address = IPAddress.Parse("fd00:96::10"), Port = 80, MasqueradeOutsideCluster = true };

        string rules = IpvsHost.Ruleset([v4, v6], new PortRange(), ["10.244.0.0/16", "fd00:244::/48"]);

        Assert.Contains("ip daddr 10.96.0.10 tcp dport 80 ip saddr != { 10.244.0.0/16 } meta mark set meta mark | 0x4000", rules);
        Assert.Contains("ip6 daddr fd00:96::10 tcp dport 80 ip6 saddr != { fd00:244::/48 } meta mark set meta mark | 0x4000", rules);
    }

    [Fact]
    public void NewConnectionsToABoundVipOnAPortNoServiceHasAreRefused()
    {
        var web = new Service { Address = IPAddress.Parse("10.96.0.10"), Port = 80 };
        var dns = new Service { Address = IPAddress.Parse("10.96.0.10"), Port = 53, Protocol = Protocol.Udp };
        var nodePort = new Service { Address = IPAddress.Parse("192.168.1.10"), Port = 30080, Forwarding = Forwarding.Masq };

        string rules = IpvsHost.Ruleset([web, dns, nodePort], new PortRange(), [], new HashSet<IPAddress> { IPAddress.Parse("10.96.0.10") });

        Assert.Contains("ip daddr { 10.96.0.10 } ct state new ip daddr . meta l4proto . th dport != { 10.96.0.10 . tcp . 80, 10.96.0.10 . udp . 53 } reject", rules);
        Assert.DoesNotContain("192.168.1.10 } ct state", rules); // the node's own address is not filtered
        // The node reaching its nat service from the VIP itself is masqueraded.
        Assert.Contains("ip saddr 10.96.0.10 ip daddr 10.96.0.10 tcp dport 80 meta mark set meta mark | 0x4000", rules);
    }

    [Fact]
    public void ABackendReachingItsOwnServiceIsMasqueraded()
    {
        var nat = new Service { Address = IPAddress.Parse("10.96.0.10"), Port = 80, Backends = [new Backend(IPAddress.Parse("10.0.11.2"), 8080)] };
        var dr = nat with { Address = IPAddress.Parse("10.96.0.12"), Forwarding = Forwarding.Dr, Backends = [new Backend(IPAddress.Parse("10.0.12.2"), 80)] };

        string rules = IpvsHost.Ruleset([nat, dr], new PortRange());

        Assert.Contains("ip saddr 10.0.11.2 ip daddr 10.0.11.2 tcp dport 8080 masquerade to :32768-60999", rules);
        Assert.DoesNotContain("10.0.12.2", rules);                                   // dr: the packet is not NATed at all
    }

    [Fact]
    public void BindingAddsWhatIsMissingAndRemovesWhatIsNoLongerWanted()
    {
        var commands = new RecordingCommands
        {
            Addresses = """[{"ifname":"xdplb-ipvs0","addr_info":[{"local":"10.96.0.1","prefixlen":32},{"local":"10.96.0.2","prefixlen":32}]}]""",
        };
        var host = new IpvsHost(commands);

        host.BindAddresses(new HashSet<IPAddress> { IPAddress.Parse("10.96.0.2"), IPAddress.Parse("fd00:96::1") });

        Assert.Contains("ip -6 addr add fd00:96::1/128 dev xdplb-ipvs0 nodad", commands.Calls);
        Assert.Contains("ip addr del 10.96.0.1/32 dev xdplb-ipvs0", commands.Calls);
        Assert.DoesNotContain(commands.Calls, c => c.Contains("10.96.0.2/32"));
    }

    [Fact]
    public void TheKernelAcceptsTheRuleset()
    {
        var services = new[]
        {
            new Service { Address = IPAddress.Parse("10.96.0.11"), Port = 80, Forwarding = Forwarding.Masq, Backends = [new Backend(IPAddress.Parse("10.0.11.2"), 8080)] },
            new Service { Address = IPAddress.Parse("fd00:96::10"), Port = 53, Protocol = Protocol.Udp, SourceRanges = ["fd00:1::/64"], Backends = [new Backend(IPAddress.Parse("fd00:11::2"), 53)] },
            new Service { Address = IPAddress.Parse("10.96.0.12"), Port = 3868, Protocol = Protocol.Sctp, Forwarding = Forwarding.Masq },
            new Service { Address = IPAddress.Parse("10.96.0.13"), Port = 80, MasqueradeOutsideCluster = true },
        };
        string ns = $"xnft{Environment.ProcessId % 10000}";
        var commands = new HostCommands();
        commands.Run("ip", "netns", "add", ns);
        try
        {
            // --check: parsed and validated by the kernel's nf_tables, nothing committed.
            commands.Run("ip", ["netns", "exec", ns, "nft", "--check", "-f", "-"], IpvsHost.Ruleset(services, new PortRange(), ["10.244.0.0/16"],
                new HashSet<IPAddress> { IPAddress.Parse("10.96.0.11"), IPAddress.Parse("10.96.0.13"), IPAddress.Parse("fd00:96::10") }));
        }
        finally
        {
            commands.Run("ip", "netns", "del", ns);
        }
    }
}
