using System.Net;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// rr in the data path against the reference model of ip_vs_rr.c: random backend sets,
/// weights and changes (applied as kube-proxy applies them), 10,000 decisions, IPv4 and IPv6.
/// </summary>
public sealed class RoundRobinDifferentialTests
{
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public void DataPathPicksWhatIpvsWouldPick(bool ipv6, int seed)
    {
        var rng = new Random(seed);
        var vip = IPAddress.Parse(ipv6 ? "fd00:96::10" : "10.96.0.10");
        var pool = Enumerable.Range(1, 10).Select(i => IPAddress.Parse(ipv6 ? $"fd00:20::{i}" : $"10.0.20.{i}")).ToList();
        List<Backend> RandomBackends() => pool.OrderBy(_ => rng.Next()).Take(rng.Next(0, pool.Count + 1))
            .Select(a => new Backend(a, 8080, (ushort)(rng.Next(4) == 0 ? 0 : rng.Next(1, 4)))).ToList();

        var listed = RandomBackends();
        var service = new Service { Address = vip, Port = 80, Backends = listed };
        var config = DataPathHarness.Config(service) with { Limits = new Limits(Services: 4, Backends: 64, Connections: 20_000) };
        using var dp = new DataPathHarness(config, mockFib: true);
        var model = IpvsRoundRobinModel.FromState([], null);
        foreach (var b in listed)
            model.Add(b);

        int decisions = 0, client = 0;
        while (decisions < 10_000)
        {
            for (int i = rng.Next(1, 40); i > 0; i--, decisions++)
            {
                client++;
                var source = ipv6 ? IPAddress.Parse($"fd00:1::{client:x}") : new IPAddress(new byte[] { 10, 1, (byte)(client >> 8), (byte)client });
                var result = dp.Run(new PacketBuilder { Source = source, Destination = vip, SourcePort = 40000, DestPort = 80 }.Build());
                var expected = model.Schedule();
                string got = dp.PickedBackend(result)?.ToString() ?? "none";
                Assert.True((expected?.Address.ToString() ?? "none") == got,
                    $"decision {decisions}: IPVS picks {expected?.Address.ToString() ?? "none"}, data path {got}; list {string.Join(" ", model.ListOrder.Select(b => $"{b.Address}/{b.Weight}"))}");
            }
            // A change as kube-proxy makes it: adds, weight updates, removals.
            var next = RandomBackends();
            IpvsListOrder.Replay(IpvsListOrder.Steps(model.ListOrder, next), model);
            dp.Dataplane.Apply(config with { Services = [service with { Backends = next }] });
        }
    }
}
