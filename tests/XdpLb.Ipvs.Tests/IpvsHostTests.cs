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
}
