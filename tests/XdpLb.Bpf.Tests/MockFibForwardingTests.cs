using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// Forwarding where the FIB decides, through the mock-FIB build: the exact verdict and the
/// exact frame out (MACs from the route, TTL and checksums), which the real FIB of a test
/// run cannot give (it has no route to the backends, so such packets go to the stack).
/// </summary>
public sealed class MockFibForwardingTests
{
    private static readonly byte[] RouterMac = [0x02, 0, 0, 0, 0, 0xaa];
    private static readonly byte[] NextHopMac = [0x02, 0, 0, 0, 0, 0xbb];

    private static PacketBuilder Syn(IPAddress client, IPAddress vip) => new()
    {
        Source = client, Destination = vip, SourcePort = 40000, DestPort = 80, Flags = TcpFlags.Syn,
        Payload = "hello"u8.ToArray(),
    };

    // The web service's nat choice for the first SYN (b3), as it leaves by the mock's route.
    private static PacketBuilder RoutedToB3(PacketBuilder syn) => syn with
    {
        SourceMac = RouterMac, DestMac = NextHopMac, Destination = DataPathHarness.BackendAddresses[2], DestPort = 8080, Ttl = 63,
    };

    [Fact]
    public void ARoutedNatRequestIsRedirectedWithTheRoutesMacsAndOneHopLess()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        dp.SetFib(MockFib.Route(ifindex: 7, RouterMac, NextHopMac));
        var syn = Syn(DataPathHarness.Client, DataPathHarness.Vip);

        var result = dp.Run(syn.Build());

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(RoutedToB3(syn).Build(), result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.FwdRedirect));
        Assert.Equal(0UL, dp.Counter(Counter.FwdStack));
    }

    [Fact]
    public void ARouteBackOutOfTheIngressInterfaceIsXdpTx()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        dp.SetFib(MockFib.Route(MockFib.IngressIfindex, RouterMac, NextHopMac));
        var syn = Syn(DataPathHarness.Client, DataPathHarness.Vip);

        var result = dp.Run(syn.Build());

        Assert.Equal(XdpAction.Tx, result.Action);
        Assert.Equal(RoutedToB3(syn).Build(), result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.FwdTx));
    }

    [Fact]
    public void AnIpv6RequestLeavesWithTheRoutesMacsAndOneHopLess()
    {
        var client = IPAddress.Parse("fd00:1::2");
        var vip = IPAddress.Parse("fd00:96::10");
        var backend = IPAddress.Parse("fd00:11::2");
        var service = DataPathHarness.WebService() with { Address = vip, Backends = [new Core.Model.Backend(backend, 8080, 1)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service), mockFib: true);
        dp.SetFib(MockFib.Route(ifindex: 7, RouterMac, NextHopMac));
        var syn = Syn(client, vip);

        var result = dp.Run(syn.Build());

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal((syn with { SourceMac = RouterMac, DestMac = NextHopMac, Destination = backend, DestPort = 8080, Ttl = 63 }).Build(),
            result.Packet);
    }

    [Fact]
    public void DirectRoutingChangesOnlyTheMacsAndTheTtl()
    {
        var dr = DataPathHarness.WebService() with { Forwarding = Core.Model.Forwarding.Dr };
        using var dp = new DataPathHarness(DataPathHarness.Config(dr), mockFib: true);
        dp.SetFib(MockFib.Route(ifindex: 7, RouterMac, NextHopMac));
        var syn = Syn(DataPathHarness.Client, DataPathHarness.Vip);

        var result = dp.Run(syn.Build());

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal((syn with { SourceMac = RouterMac, DestMac = NextHopMac, Ttl = 63 }).Build(), result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.FwdDirect));
    }

    [Fact]
    public void ARouteWithoutANeighbourLeavesTheRewrittenPacketToTheStack()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        dp.SetFib(MockFib.Route(ifindex: 7, RouterMac, NextHopMac) with { Rc = MockFib.NoNeighbour });
        var syn = Syn(DataPathHarness.Client, DataPathHarness.Vip);

        var result = dp.Run(syn.Build());

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal((syn with { Destination = DataPathHarness.BackendAddresses[2], DestPort = 8080 }).Build(), result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.FwdStack));
    }
}
