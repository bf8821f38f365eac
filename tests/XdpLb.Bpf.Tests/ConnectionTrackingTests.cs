using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>IPVS's TCP states, active/inactive counts, expiry and per-backend traffic counters.</summary>
public sealed class ConnectionTrackingTests
{
    private static readonly IPAddress[] B = DataPathHarness.BackendAddresses;

    private static PacketBuilder FromClient(ushort port, TcpFlags flags) => new()
    {
        Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, SourcePort = port, DestPort = 80, Flags = flags,
    };

    private static PacketBuilder FromBackend(IPAddress backend, ushort clientPort, TcpFlags flags) => new()
    {
        Source = backend, Destination = DataPathHarness.Client, SourcePort = 8080, DestPort = clientPort, Flags = flags,
    };

    private static BackendConns Conns(DataPathHarness dp, IPAddress backend) =>
        dp.Program.BackendConns[dp.Dataplane.BackendId(new ServiceKey(DataPathHarness.Vip, 80, Protocol.Tcp), new Backend(backend, 8080))];

    private static TcpState StateOf(DataPathHarness dp, ushort clientPort)
    {
        var key = dp.Program.Conntrack.Keys().Single(k => k.SourcePort == NetworkOrder.Port(clientPort) && k.DestPort == NetworkOrder.Port(80));
        Assert.True(dp.Program.Conntrack.TryLookup(key, out var flow));
        return flow.State;
    }

    [Fact]
    public void TcpHandshakeAndCloseMoveStatesAndCountsAsIpvs()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));

        dp.Run(FromClient(40000, TcpFlags.Syn).Build());
        Assert.Equal(TcpState.SynRecv, StateOf(dp, 40000));
        Assert.Equal(new BackendConns { Active = 0, Inactive = 1 }, Conns(dp, B[2]));

        dp.Run(FromBackend(B[2], 40000, TcpFlags.Syn | TcpFlags.Ack).Build());   // OUTPUT syn: SR stays SR
        Assert.Equal(TcpState.SynRecv, StateOf(dp, 40000));

        dp.Run(FromClient(40000, TcpFlags.Ack).Build());                       // INPUT ack: SR -> ES
        Assert.Equal(TcpState.Established, StateOf(dp, 40000));
        Assert.Equal(new BackendConns { Active = 1, Inactive = 0 }, Conns(dp, B[2]));

        dp.Run(FromClient(40000, TcpFlags.Fin | TcpFlags.Ack).Build());        // INPUT fin: ES -> CLOSE_WAIT (NAT)
        Assert.Equal(TcpState.CloseWait, StateOf(dp, 40000));
        Assert.Equal(new BackendConns { Active = 0, Inactive = 1 }, Conns(dp, B[2]));

        dp.Run(FromBackend(B[2], 40000, TcpFlags.Fin | TcpFlags.Ack).Build());  // OUTPUT fin: CW -> TIME_WAIT
        Assert.Equal(TcpState.TimeWait, StateOf(dp, 40000));
        Assert.Equal(new BackendConns { Active = 0, Inactive = 1 }, Conns(dp, B[2]));
    }

    [Fact]
    public void ServerCloseGoesThroughFinWait()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        dp.Run(FromClient(40001, TcpFlags.Syn).Build());
        dp.Run(FromClient(40001, TcpFlags.Ack).Build());

        dp.Run(FromBackend(B[2], 40001, TcpFlags.Fin | TcpFlags.Ack).Build());  // OUTPUT fin: ES -> FIN_WAIT

        Assert.Equal(TcpState.FinWait, StateOf(dp, 40001));
        dp.Run(FromClient(40001, TcpFlags.Rst).Build());                       // INPUT rst: FW -> CLOSE
        Assert.Equal(TcpState.Close, StateOf(dp, 40001));
    }

    [Fact]
    public void CountsReturnToZeroWhenEveryConnectionExpires()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        for (ushort p = 41000; p < 41006; p++)
        {
            dp.Run(FromClient(p, TcpFlags.Syn).Build());
            if (p % 2 == 0)
                dp.Run(FromClient(p, TcpFlags.Ack).Build());
        }
        Assert.Equal(3u, B.Select(b => Conns(dp, b).Active).Aggregate(0u, (a, c) => a + c));
        Assert.Equal(3u, B.Select(b => Conns(dp, b).Inactive).Aggregate(0u, (a, c) => a + c));

        Assert.Equal(0, dp.Dataplane.Sweeper.CollectExpired());                    // nothing idle yet
        Assert.Equal(3, dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(61)));   // SYN_RECV: 60 s
        Assert.Equal(0u, B.Select(b => Conns(dp, b).Inactive).Aggregate(0u, (a, c) => a + c));
        Assert.Equal(3, dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(901)));  // ESTABLISHED: 900 s

        Assert.All(B, b => Assert.Equal(default, Conns(dp, b)));
        Assert.Empty(dp.Program.Conntrack.Keys());
    }

    [Fact]
    public void TablesLargerThanOneReadBatchAreCollectedWhole()
    {
        var config = DataPathHarness.Config(DataPathHarness.WebService(Protocol.Udp)) with { Limits = new Limits(4, 16, 12_000) };
        using var dp = new DataPathHarness(config);
        for (int i = 0; i < 10_000; i++)
            dp.Run(new PacketBuilder { Source = new IPAddress(new byte[] { 10, 7, (byte)(i >> 8), (byte)i }), Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp, DestPort = 80 }.Build());
        Assert.Equal(20_000, dp.Program.Conntrack.Count());

        Assert.Equal(0, dp.Dataplane.Sweeper.CollectExpired());
        Assert.Equal(10_000, dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(301)));

        Assert.Equal(0, dp.Program.Conntrack.Count());
        Assert.All(B, b => Assert.Equal(default, dp.Program.BackendConns[dp.Dataplane.BackendId(new ServiceKey(DataPathHarness.Vip, 80, Protocol.Udp), new Backend(b, 8080))]));
    }

    [Fact]
    public void ConfiguredTimeoutsApply()
    {
        var config = DataPathHarness.Config(DataPathHarness.WebService(Protocol.Udp)) with { Timeouts = new Timeouts(Tcp: 900, TcpFin: 120, Udp: 5) };
        using var dp = new DataPathHarness(config);
        dp.Run(new PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp, DestPort = 80 }.Build());

        Assert.Equal(0, dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(4)));
        Assert.Equal(1, dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(6)));
        Assert.Empty(dp.Program.Conntrack.Keys());
    }

    [Fact]
    public void SynReusingTheSourcePortOfAClosedConnectionIsRescheduled()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        dp.Run(FromClient(42000, TcpFlags.Syn).Build());                       // -> b3
        dp.Run(FromClient(42000, TcpFlags.Rst).Build());                       // INPUT rst: SR stays SR
        dp.Run(FromClient(42000, TcpFlags.Ack).Build());                       // ES
        dp.Run(FromClient(42000, TcpFlags.Rst).Build());                       // ES + rst -> CLOSE
        Assert.Equal(TcpState.Close, StateOf(dp, 42000));

        var again = dp.Forward(FromClient(42000, TcpFlags.Syn));

        Assert.Equal(B[1], again.Destination);                                 // a new rr pick, not the old b3
        Assert.Equal(TcpState.SynRecv, StateOf(dp, 42000));
        Assert.Equal(default, Conns(dp, B[2]));
        Assert.Equal(new BackendConns { Inactive = 1 }, Conns(dp, B[1]));
        Assert.Equal(2, dp.Program.Conntrack.Keys().Count);
    }

    [Fact]
    public void RemovingABackendExpiresItsConnectionsAndUdpIsRescheduled()
    {
        var service = DataPathHarness.WebService(Protocol.Udp);
        var config = DataPathHarness.Config(service);
        using var dp = new DataPathHarness(config, mockFib: true);
        var query = new PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp, DestPort = 80, SourcePort = 5300 };
        Assert.Equal(B[2], dp.Forward(query).Destination);

        dp.Dataplane.Apply(config with { Services = [service with { Backends = service.Backends.Take(2).ToList() }] });

        Assert.Empty(dp.Program.Conntrack.Keys());
        var next = dp.Forward(query);
        Assert.Contains(next.Destination, B.Take(2));
    }

    [Fact]
    public void WeightZeroKeepsExistingConnectionsButTakesNoNewOnes()
    {
        var service = DataPathHarness.WebService();
        var config = DataPathHarness.Config(service);
        using var dp = new DataPathHarness(config, mockFib: true);
        dp.Run(FromClient(43000, TcpFlags.Syn).Build());                       // -> b3

        dp.Dataplane.Apply(config with { Services = [service with { Backends = [service.Backends[0], service.Backends[1], service.Backends[2] with { Weight = 0 }] }] });

        var established = dp.Forward(FromClient(43000, TcpFlags.Ack));
        Assert.Equal(B[2], established.Destination);
        var fresh = Enumerable.Range(0, 4).Select(i => dp.Forward(FromClient((ushort)(43100 + i), TcpFlags.Syn)).Destination).ToList();
        Assert.DoesNotContain(B[2], fresh);
        Assert.Equal(new BackendConns { Active = 1 }, Conns(dp, B[2]));
    }

    [Fact]
    public void PerBackendTrafficCountsPacketsAndIpBytesEachWay()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        var syn = FromClient(44000, TcpFlags.Syn).Build();
        var data = FromClient(44000, TcpFlags.Ack | TcpFlags.Psh) with { Payload = new byte[100] };
        var reply = FromBackend(B[2], 44000, TcpFlags.Ack) with { Payload = new byte[300] };
        dp.Run(syn);
        dp.Run(data.Build());
        dp.Run(reply.Build());

        uint id = dp.Dataplane.BackendId(new ServiceKey(DataPathHarness.Vip, 80, Protocol.Tcp), new Backend(B[2], 8080));
        var traffic = dp.Program.ReadTraffic(id);
        Assert.Equal(traffic, dp.Program.ReadAllTraffic(dp.Dataplane.BackendIdLimit)[id]);   // the batched read agrees

        Assert.Equal(1UL, traffic.Conns);
        Assert.Equal(2UL, traffic.PacketsIn);
        Assert.Equal(1UL, traffic.PacketsOut);
        Assert.Equal((ulong)(syn.Length - 14 + data.Build().Length - 14), traffic.BytesIn);
        Assert.Equal((ulong)(reply.Build().Length - 14), traffic.BytesOut);
    }
}
