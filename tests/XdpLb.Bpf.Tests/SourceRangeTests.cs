using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>sourceRanges: new connections from outside a service's ranges are dropped and counted.</summary>
public sealed class SourceRangeTests
{
    private static TestRunResult Syn(DataPathHarness dp, string client, string vip = "10.96.0.10") =>
        dp.Run(new PacketBuilder { Source = IPAddress.Parse(client), Destination = IPAddress.Parse(vip), DestPort = 80 }.Build());

    [Fact]
    public void OnlyClientsInsideTheRangesConnect()
    {
        var service = DataPathHarness.WebService() with { SourceRanges = ["10.0.1.0/24", "192.168.7.7/32"] };
        var other = new Service { Address = IPAddress.Parse("10.96.0.11"), Port = 80, Backends = [new Backend(IPAddress.Parse("10.0.11.2"), 8080)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service, other), mockFib: true);

        Assert.NotNull(dp.PickedBackend(Syn(dp, "10.0.1.200")));
        Assert.NotNull(dp.PickedBackend(Syn(dp, "192.168.7.7")));
        Assert.Equal(XdpAction.Drop, Syn(dp, "10.0.2.1").Action);
        Assert.Equal(XdpAction.Drop, Syn(dp, "192.168.7.8").Action);
        Assert.NotNull(dp.PickedBackend(Syn(dp, "10.0.2.1", "10.96.0.11")));   // another service has no ranges
        Assert.Equal(2UL, dp.Counter(Counter.DropSourceRange));
    }

    [Fact]
    public void Ipv6RangesWork()
    {
        var service = new Service
        {
            Address = IPAddress.Parse("fd00:96::10"), Port = 80, SourceRanges = ["fd00:1::/64"],
            Backends = [new Backend(IPAddress.Parse("fd00:11::2"), 8080)],
        };
        using var dp = new DataPathHarness(DataPathHarness.Config(service), mockFib: true);

        Assert.NotNull(dp.PickedBackend(Syn(dp, "fd00:1::99", "fd00:96::10")));
        Assert.Equal(XdpAction.Drop, Syn(dp, "fd00:2::99", "fd00:96::10").Action);
    }

    [Fact]
    public void ChangingAndDroppingRangesTakesEffect()
    {
        var service = DataPathHarness.WebService() with { SourceRanges = ["10.0.1.0/24"] };
        var config = DataPathHarness.Config(service);
        using var dp = new DataPathHarness(config, mockFib: true);
        Assert.Equal(XdpAction.Drop, Syn(dp, "10.0.2.1").Action);

        dp.Dataplane.Apply(config with { Services = [service with { SourceRanges = ["10.0.2.0/24"] }] });
        Assert.NotNull(dp.PickedBackend(Syn(dp, "10.0.2.1")));
        Assert.Equal(XdpAction.Drop, Syn(dp, "10.0.1.2").Action);
        Assert.Single(dp.Program.SourceRanges.Keys());

        foreach (var key in dp.Program.SourceRanges.Keys())
            dp.Program.SourceRanges.Delete(key);                                  // behind the agent's back
        Assert.Single(dp.Dataplane.FindDrift());
        Assert.Single(new Core.Reconcile.Reconciler(dp.Dataplane).Sync(config with { Services = [service with { SourceRanges = ["10.0.2.0/24"] }] }, full: true).Repaired);
        Assert.NotNull(dp.PickedBackend(Syn(dp, "10.0.2.9")));

        dp.Dataplane.Apply(config with { Services = [service with { SourceRanges = [] }] });
        Assert.NotNull(dp.PickedBackend(Syn(dp, "10.0.1.3")));
        Assert.Empty(dp.Program.SourceRanges.Keys());
    }
}
