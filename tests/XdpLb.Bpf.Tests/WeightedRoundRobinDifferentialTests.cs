using System.Net;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// wrr in the data path against the step-for-step model of ip_vs_wrr.c, including the
/// dest_changed hook on every add, removal and weight change, and weight sets whose cycle
/// no precomputed ring could hold (65535-scale weights on 4,096 backends).
/// </summary>
public sealed class WeightedRoundRobinDifferentialTests
{
    [Theory]
    [InlineData(false, 1, 5)]
    [InlineData(true, 2, 5)]
    [InlineData(false, 3, 65535)]
    public void DataPathPicksWhatIpvsWouldPick(bool ipv6, int seed, int maxWeight)
    {
        var rng = new Random(seed);
        var vip = IPAddress.Parse(ipv6 ? "fd00:96::10" : "10.96.0.10");
        var pool = Enumerable.Range(1, 10).Select(i => IPAddress.Parse(ipv6 ? $"fd00:20::{i}" : $"10.0.20.{i}")).ToList();
        List<Backend> RandomBackends() => pool.OrderBy(_ => rng.Next()).Take(rng.Next(0, pool.Count + 1))
            .Select(a => new Backend(a, 8080, (ushort)(rng.Next(5) == 0 ? 0 : rng.Next(1, maxWeight + 1)))).ToList();

        var listed = RandomBackends();
        var service = new Service { Address = vip, Port = 80, Scheduler = Scheduler.Wrr, Backends = listed };
        var config = DataPathHarness.Config(service) with { Limits = new Limits(Services: 4, Backends: 64, Connections: 25_000) };
        using var dp = new DataPathHarness(config, mockFib: true);
        var model = new IpvsWeightedRoundRobinModel();
        foreach (var b in listed)
            model.Add(b);

        int decisions = 0;
        while (decisions < 10_000)
        {
            for (int i = rng.Next(1, 60); i > 0; i--, decisions++)
                AssertSamePick(dp, model, vip, ipv6, decisions);
            var next = RandomBackends();
            IpvsListOrder.Replay(IpvsListOrder.Steps(model.ListOrder, next), model);
            dp.Dataplane.Apply(config with { Services = [service with { Backends = next }] });
        }
    }

    [Fact]
    public void FourThousandBackendsWithAnyWeights()
    {
        var rng = new Random(4096);
        var vip = IPAddress.Parse("10.96.0.10");
        var listed = Enumerable.Range(0, 4096)
            .Select(i => new Backend(new IPAddress(new byte[] { 10, 30, (byte)(i >> 8), (byte)i }), 8080, (ushort)(rng.Next(8) == 0 ? 0 : rng.Next(1, 65536))))
            .ToList();
        var service = new Service { Address = vip, Port = 80, Scheduler = Scheduler.Wrr, Backends = listed };
        using var dp = new DataPathHarness(DataPathHarness.Config(service) with { Limits = new Limits(Services: 4, Backends: 8192, Connections: 5_000) }, mockFib: true);
        var model = new IpvsWeightedRoundRobinModel();
        foreach (var b in listed)
            model.Add(b);

        for (int decision = 0; decision < 4_000; decision++)
            AssertSamePick(dp, model, vip, ipv6: false, decision);
    }

    private static void AssertSamePick(DataPathHarness dp, IpvsWeightedRoundRobinModel model, IPAddress vip, bool ipv6, int decision)
    {
        var source = ipv6 ? IPAddress.Parse($"fd00:1::{decision + 1:x}") : new IPAddress(new byte[] { 10, 1, (byte)(decision >> 8), (byte)decision });
        var result = dp.Run(new PacketBuilder { Source = source, Destination = vip, SourcePort = 40000, DestPort = 80 }.Build());
        string expected = model.Schedule()?.Address.ToString() ?? "none";
        string got = dp.PickedBackend(result)?.ToString() ?? "none";
        if (expected != got)
            Assert.Fail($"decision {decision}: IPVS picks {expected}, data path {got}; cw {model.CurrentWeight}, mw {model.MaxWeight}, di {model.WeightStep}; " +
                $"list {string.Join(" ", model.ListOrder.Take(12).Select(b => $"{b.Address}/{b.Weight}"))}");
    }
}
