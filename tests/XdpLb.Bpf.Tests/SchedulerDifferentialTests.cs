using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// The data path's choices against the C# reference models written from the kernel's
/// ip_vs_{lc,wlc,sed,nq,sh,dh,mh}.c: random backend sets, weights (including 0), flags,
/// connection counts and clients; backend sets change as kube-proxy changes them; at least
/// 10,000 decisions per scheduler and address family.
/// </summary>
public sealed class SchedulerDifferentialTests
{
    private const int Decisions = 10_000;

    public static TheoryData<Scheduler, bool> Schedulers()
    {
        var data = new TheoryData<Scheduler, bool>();
        foreach (var s in new[] { Scheduler.Lc, Scheduler.Wlc, Scheduler.Sed, Scheduler.Nq, Scheduler.Sh, Scheduler.Dh, Scheduler.Mh })
        {
            data.Add(s, false);
            data.Add(s, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Schedulers))]
    public void DataPathPicksWhatIpvsWouldPick(Scheduler scheduler, bool ipv6)
    {
        var rng = new Random((int)scheduler * 7 + (ipv6 ? 1 : 0));
        IPAddress Address(string v4Prefix, string v6Prefix, int i) =>
            IPAddress.Parse(ipv6 ? $"{v6Prefix}{i:x}" : $"{v4Prefix}{i}");
        var pool = Enumerable.Range(1, 12).Select(i => Address("10.0.20.", "fd00:20::", i)).ToList();
        // dh hashes the destination, so it needs several service addresses to be exercised.
        var vips = Enumerable.Range(1, scheduler == Scheduler.Dh ? 24 : 1).Select(i => Address("10.96.1.", "fd00:96::", i)).ToList();
        var flagChoices = scheduler switch
        {
            Scheduler.Sh => new[] { SchedulerFlag.ShPort, SchedulerFlag.ShFallback },
            Scheduler.Mh => new[] { SchedulerFlag.MhPort, SchedulerFlag.MhFallback },
            _ => [],
        };

        List<Backend> RandomBackends() => pool.OrderBy(_ => rng.Next()).Take(rng.Next(0, pool.Count + 1))
            .Select(a => new Backend(a, 8080, (ushort)(rng.Next(4) == 0 ? 0 : rng.Next(1, 6)))).ToList();
        List<SchedulerFlag> RandomFlags() => flagChoices.Where(_ => rng.Next(2) == 0).ToList();

        var listed = RandomBackends();
        var flags = RandomFlags();
        List<Service> Services() => vips.Select(v => new Service { Address = v, Port = 80, Scheduler = scheduler, Flags = flags, Backends = listed }).ToList();
        var config = DataPathHarness.Config() with { Limits = new Limits(Services: 64, Backends: 1024, Connections: 30_000) };
        using var dp = new DataPathHarness(config with { Services = Services() }, mockFib: true);
        IReadOnlyList<Backend> listOrder = IpvsListOrder.Next([], listed);
        var lastWeights = listOrder.ToDictionary(b => b.Address, b => b.Weight);

        int decisions = 0, client = 0;
        while (decisions < Decisions)
        {
            for (int i = rng.Next(20, 120); i > 0 && decisions < Decisions; i--, decisions++)
            {
                client++;
                var source = ipv6 ? IPAddress.Parse($"fd00:1::{rng.Next(1, 0xffff):x}:{client:x}") : new IPAddress(new byte[] { 10, (byte)rng.Next(1, 255), (byte)(client >> 8), (byte)client });
                ushort sourcePort = (ushort)rng.Next(1024, 65535);
                var vip = vips[rng.Next(vips.Count)];
                var key = new ServiceKey(vip, 80, Protocol.Tcp);
                var loads = listOrder.Select(b => new LeastConnection.DestLoad(b.Weight, (uint)rng.Next(0, 4), (uint)rng.Next(0, 600))).ToList();
                for (int d = 0; d < listOrder.Count; d++)
                    dp.Program.BackendConns[dp.Dataplane.BackendId(key, listOrder[d])] = new BackendConns { Active = loads[d].Active, Inactive = loads[d].Inactive };

                int expected = scheduler switch
                {
                    Scheduler.Sh => SourceHashing.Pick(SourceHashing.BuildTable(listOrder), listOrder, source, sourcePort,
                        flags.Contains(SchedulerFlag.ShPort), flags.Contains(SchedulerFlag.ShFallback)),
                    Scheduler.Dh => DestinationHashing.Pick(DestinationHashing.BuildTable(listOrder), listOrder, vip),
                    Scheduler.Mh => Maglev.Pick(Maglev.BuildTable(listOrder, listOrder.Select(b => lastWeights[b.Address]).ToList()), listOrder,
                        source, sourcePort, flags.Contains(SchedulerFlag.MhPort), flags.Contains(SchedulerFlag.MhFallback)),
                    _ => LeastConnection.Pick(scheduler, loads),
                };
                var result = dp.Run(new PacketBuilder { Source = source, Destination = vip, SourcePort = sourcePort, DestPort = 80 }.Build());
                var picked = dp.PickedBackend(result);
                int got = picked is null ? -1 : listOrder.ToList().FindIndex(b => b.Address.Equals(picked));
                Assert.True(expected == got,
                    $"decision {decisions}: IPVS picks {Describe(listOrder, expected)}, data path {Describe(listOrder, got)}; " +
                    $"client {source}:{sourcePort} -> {vip}, flags [{string.Join(",", flags.Select(Names.Of))}], " +
                    $"list {string.Join(" ", listOrder.Select((b, n) => $"{b.Address}/w{b.Weight}/a{loads[n].Active}/i{loads[n].Inactive}"))}");
            }

            listed = RandomBackends();
            flags = RandomFlags();
            listOrder = IpvsListOrder.Next(listOrder, listed);
            lastWeights = listOrder.ToDictionary(b => b.Address, b => b.Weight > 0 ? b.Weight : lastWeights.GetValueOrDefault(b.Address));
            dp.Dataplane.Apply(config with { Services = Services() });
        }
    }

    private static string Describe(IReadOnlyList<Backend> listOrder, int index) => index < 0 ? "none" : listOrder[index].Address.ToString();
}
