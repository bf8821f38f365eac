using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Status;

namespace XdpLb.Core.Tests;

/// <summary>`xdplb list` text against real ipvsadm 1.31 output for the same state (Fixtures/ipvsadm-output.txt).</summary>
public sealed class IpvsAdmFormatTests
{
    private static readonly TrafficCounters Zero = new();

    private static RealServer Dest(string address, ushort port, Forwarding forwarding, ushort weight) =>
        new(IPAddress.Parse(address), port, forwarding, weight, 0, 0, Zero, Zero);

    private static VirtualServer Service(Protocol protocol, string address, ushort port, Scheduler scheduler, IReadOnlyList<SchedulerFlag> flags,
        uint persistence, params RealServer[] dests) =>
        new(protocol, IPAddress.Parse(address), port, scheduler, flags, persistence, dests, Zero, Zero);

    // The state the fixture's ipvsadm commands made, listed here in another order on purpose.
    private static readonly VirtualServer[] FixtureState =
    [
        Service(Protocol.Tcp, "fd00::10", 80, Scheduler.Sh, [SchedulerFlag.ShPort, SchedulerFlag.ShFallback], 0, Dest("fd00::1:2", 8080, Forwarding.Nat, 3)),
        Service(Protocol.Udp, "10.96.0.10", 53, Scheduler.Rr, [], 0, Dest("10.244.1.3", 53, Forwarding.Nat, 1)),
        Service(Protocol.Tcp, "10.96.0.21", 80, Scheduler.Wlc, [], 0, Dest("10.244.3.4", 80, Forwarding.Tun, 1)),
        Service(Protocol.Tcp, "10.96.0.10", 80, Scheduler.Rr, [], 10800, Dest("10.244.2.7", 8080, Forwarding.Nat, 0), Dest("10.244.1.5", 8080, Forwarding.Nat, 1)),
        Service(Protocol.Tcp, "10.96.0.20", 80, Scheduler.Mh, [SchedulerFlag.MhPort], 0, Dest("10.244.3.3", 80, Forwarding.Dr, 1)),
        Service(Protocol.Tcp, "10.96.0.1", 443, Scheduler.Rr, [], 0, Dest("192.168.1.10", 6443, Forwarding.Masq, 1)),
    ];

    private static Dictionary<string, string> Fixture()
    {
        var blocks = new Dictionary<string, string>();
        string? name = null;
        var text = new System.Text.StringBuilder();
        foreach (var line in File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ipvsadm-output.txt")).Split('\n'))
        {
            if (line.StartsWith("== ", StringComparison.Ordinal))
            {
                if (name is not null)
                    blocks[name] = text.ToString();
                name = line[3..];
                text.Clear();
            }
            else if (name is not null && line.Length > 0)
            {
                text.Append(line).Append('\n');
            }
        }
        blocks[name!] = text.ToString();
        return blocks;
    }

    [Fact]
    public void ListEqualsIpvsadmLn() => Assert.Equal(Fixture()["-Ln"], IpvsAdmFormat.List(FixtureState, 4096));

    [Fact]
    public void StatsEqualsIpvsadmLnStats() => Assert.Equal(Fixture()["--stats"], IpvsAdmFormat.Stats(FixtureState, 4096));

    [Fact]
    public void RateEqualsIpvsadmLnRate() => Assert.Equal(Fixture()["--rate"], IpvsAdmFormat.Rate(FixtureState, 4096));

    [Fact]
    public void CountsAndLargeNumbersAreFormattedAsIpvsadmDoes()
    {
        var s = Service(Protocol.Tcp, "10.96.0.10", 80, Scheduler.Rr, [], 0) with
        {
            RealServers = [new RealServer(IPAddress.Parse("10.244.1.5"), 8080, Forwarding.Nat, 1, 12, 40, new TrafficCounters(760, 15203, 14431, 1206400, 123_456_789_012), Zero)],
            Stats = new TrafficCounters(1520, 30411, 28870, 2412833, 40233120),
        };

        Assert.Contains("  -> 10.244.1.5:8080              Masq    1      12         40        \n", IpvsAdmFormat.List([s], 4096));
        var stats = IpvsAdmFormat.Stats([s], 4096);
        Assert.Contains("TCP  10.96.0.10:80                    1520    30411    28870  2412833 40233120\n", stats);
        Assert.Contains("  -> 10.244.1.5:8080                   760    15203    14431  1206400     123G\n", stats);
        Assert.Equal(" 99999999", IpvsAdmFormat.LargeNumber(99_999_999));
        Assert.Equal("  100000K", IpvsAdmFormat.LargeNumber(100_000_000));
        Assert.Equal("  999999K", IpvsAdmFormat.LargeNumber(999_999_999));
        Assert.Equal("    1000M", IpvsAdmFormat.LargeNumber(1_000_000_000));
        Assert.Equal("   99999G", IpvsAdmFormat.LargeNumber(99_999_999_999_999));
        Assert.Equal("     100T", IpvsAdmFormat.LargeNumber(100_000_000_000_000));
    }

    [Fact]
    public void ConnectionsAreListedAsIpvsadmLnc()
    {
        var text = IpvsAdmFormat.Connections([
            new ConnectionEntry(Protocol.Tcp, TimeSpan.FromSeconds(899), "ESTABLISHED", IPAddress.Parse("10.0.1.2"), 40000,
                IPAddress.Parse("10.96.0.10"), 80, IPAddress.Parse("10.0.13.2"), 8080),
        ]);

        Assert.Equal("IPVS connection entries\n" +
                     "pro expire state       source             virtual            destination\n" +
                     "TCP 14:59  ESTABLISHED 10.0.1.2:40000     10.96.0.10:80      10.0.13.2:8080\n", text);
    }
}
