using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// The connection table under pressure: what is assured, what a full table reclaims (the
/// oldest connection that never saw an answer) and refuses (nothing reclaimable), the kernel's
/// sweeper, and counts that stay exact through all of it.
/// </summary>
public sealed class ConnectionTablePressureTests
{
    private static readonly IPAddress[] B = DataPathHarness.BackendAddresses;

    private static LbConfig Small(Service service, uint connections) =>
        DataPathHarness.Config(service) with { Limits = new Limits(Services: 4, Backends: 8, Connections: connections) };

    private static PacketBuilder Tcp(ushort port, TcpFlags flags, IPAddress? client = null) => new()
    {
        Source = client ?? DataPathHarness.Client, Destination = DataPathHarness.Vip, SourcePort = port, DestPort = 80, Flags = flags,
    };

    private static PacketBuilder Udp(ushort port) => new()
    {
        Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp, SourcePort = port, DestPort = 80,
    };

    private static PacketBuilder Answer(IPAddress backend, ushort clientPort, byte proto = PacketBuilder.Tcp, TcpFlags flags = TcpFlags.Syn | TcpFlags.Ack) => new()
    {
        Source = backend, Destination = DataPathHarness.Client, Protocol = proto, SourcePort = 8080, DestPort = clientPort, Flags = flags,
    };

    private static FlowValue? Request(DataPathHarness dp, ushort clientPort) =>
        dp.Program.Conntrack.Entries().Where(e => e.Value.Direction == FlowDirection.Request && e.Key.SourcePort == NetworkOrder.Port(clientPort))
            .Select(e => (FlowValue?)e.Value).SingleOrDefault();

    private static ulong Event(DataPathHarness dp, ConntrackEvent e) => dp.Program.ReadConntrackEvents()[e];

    // The counts as the data path keeps them, against a recount of the table.
    private static void AssertCountsMatchTable(DataPathHarness dp, Service service)
    {
        var requests = dp.Program.Conntrack.Entries().Where(e => e.Value.Direction == FlowDirection.Request).ToList();
        foreach (var b in service.Backends)
        {
            uint id = dp.Dataplane.BackendId(service.Key!, b);
            var mine = requests.Where(r => r.Value.BackendId == id).ToList();
            var expected = new BackendConns
            {
                Active = (uint)mine.Count(r => r.Key.Proto == 6 && r.Value.State == TcpState.Established),
                Inactive = (uint)mine.Count(r => !(r.Key.Proto == 6 && r.Value.State == TcpState.Established)),
            };
            Assert.Equal(expected, dp.Program.BackendConns[id]);
        }
        Assert.Equal((ulong)requests.Count, dp.Program.LiveConnections());
    }

    private static int OccupiedIndexSlots(DataPathHarness dp) =>
        dp.Program.SweepIndex.Entries().Sum(w => Enumerable.Range(0, IndexWindow.Ways).Count(i => w.Value.Tag[i] != 0));

    [Fact]
    public void TcpIsAssuredAtEstablishedNotBySynAck()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));

        dp.Run(Tcp(40000, TcpFlags.Syn).Build());
        dp.Run(Answer(B[2], 40000).Build());
        Assert.False(Request(dp, 40000)!.Value.Flags.HasFlag(FlowFlags.Assured)); // a backend answers a spoofed SYN too

        dp.Run(Tcp(40000, TcpFlags.Ack).Build());
        Assert.True(Request(dp, 40000)!.Value.Flags.HasFlag(FlowFlags.Assured));
        Assert.Equal(1UL, Event(dp, ConntrackEvent.Assured));
    }

    [Fact]
    public void UdpIsAssuredByItsFirstAnswer()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(Protocol.Udp)));

        dp.Run(Udp(40000).Build());
        dp.Run(Udp(40000).Build());
        Assert.False(Request(dp, 40000)!.Value.Flags.HasFlag(FlowFlags.Assured));

        dp.Run(Answer(B[2], 40000, PacketBuilder.Udp, TcpFlags.None).Build());
        Assert.True(Request(dp, 40000)!.Value.Flags.HasFlag(FlowFlags.Assured));
    }

    [Fact]
    public void AFullTableReclaimsTheOldestHalfOpenConnectionAndKeepsTheAssured()
    {
        var service = DataPathHarness.WebService();
        using var dp = new DataPathHarness(Small(service, 4), mockFib: true);
        var established = dp.Forward(Tcp(1001, TcpFlags.Syn)).Destination;
        dp.Run(Tcp(1001, TcpFlags.Ack).Build());
        for (ushort p = 1002; p <= 1004; p++)
            dp.Run(Tcp(p, TcpFlags.Syn).Build());                // half-open: 1002 is the oldest

        var fifth = dp.Forward(Tcp(1005, TcpFlags.Syn));
        var sixth = dp.Forward(Tcp(1006, TcpFlags.Syn));

        Assert.Equal((B[1], 8080), (fifth.Destination, fifth.DestPort));   // rr goes on: b3 b2 b1 b3, then b2 b1
        Assert.Equal((B[0], 8080), (sixth.Destination, sixth.DestPort));
        Assert.Null(Request(dp, 1002));
        Assert.Null(Request(dp, 1003));
        Assert.NotNull(Request(dp, 1004));
        Assert.Equal(2UL, Event(dp, ConntrackEvent.ReclaimedTcpHalfOpen));
        Assert.Equal(0UL, dp.Counter(Counter.DropConntrackFull));
        Assert.Equal(established, dp.Forward(Tcp(1001, TcpFlags.Ack)).Destination);
        AssertCountsMatchTable(dp, service);
    }

    [Fact]
    public void AFullTableOfAssuredConnectionsRefusesNewOnesAndCountsWhy()
    {
        var service = DataPathHarness.WebService();
        using var dp = new DataPathHarness(Small(service, 2), mockFib: true);
        var first = dp.Forward(Tcp(1001, TcpFlags.Syn)).Destination;
        dp.Run(Tcp(1001, TcpFlags.Ack).Build());
        dp.Run(Tcp(1002, TcpFlags.Syn).Build());
        dp.Run(Tcp(1002, TcpFlags.Ack).Build());

        var refused = dp.Run(Tcp(1003, TcpFlags.Syn).Build());

        Assert.Equal(XdpAction.Drop, refused.Action);
        Assert.Equal(1UL, dp.Counter(Counter.DropConntrackFull));
        Assert.Equal(1UL, Event(dp, ConntrackEvent.RefusedFull));
        Assert.Equal(first, dp.Forward(Tcp(1001, TcpFlags.Ack)).Destination);
        Assert.Equal(4, dp.Program.Conntrack.Count());
        AssertCountsMatchTable(dp, service);
    }

    [Fact]
    public void AnUnansweredUdpFloodCannotLockOutAnsweredFlows()
    {
        var service = DataPathHarness.WebService(Protocol.Udp);
        using var dp = new DataPathHarness(Small(service, 64), mockFib: true);
        var kept = dp.Forward(Udp(1000)).Destination;
        dp.Run(Answer(kept, 1000, PacketBuilder.Udp, TcpFlags.None).Build());

        for (int i = 0; i < 64 * 20; i++)                         // 20 times the table, never answered
        {
            var flooded = dp.Forward(Udp((ushort)(2000 + i)));
            Assert.Equal((B[(4 - i % 3) % 3], 8080), (flooded.Destination, flooded.DestPort));   // rr after b3: b2 b1 b3 ...
        }

        Assert.Equal(0UL, dp.Counter(Counter.DropConntrackFull));
        Assert.Equal(64UL * 20 - 63, Event(dp, ConntrackEvent.ReclaimedUdpUnanswered));
        Assert.Equal(kept, dp.Forward(Udp(1000)).Destination);
        AssertCountsMatchTable(dp, service);
    }

    [Fact]
    public void CountsReturnToZeroAfterFillingReclaimingAndExpiring()
    {
        var service = DataPathHarness.WebService() with { Scheduler = Scheduler.Wlc };
        using var dp = new DataPathHarness(Small(service, 32), mockFib: true);
        for (ushort p = 3000; p < 3100; p++)
        {
            var to = dp.Forward(Tcp(p, TcpFlags.Syn)).Destination;
            if (p % 4 == 0)
            {
                dp.Run(Answer(to, p).Build());
                dp.Run(Tcp(p, TcpFlags.Ack).Build());              // established: assured
                if (p % 2 == 0)
                    dp.Run(Tcp(p, TcpFlags.Fin | TcpFlags.Ack).Build());
            }
        }
        Assert.True(Event(dp, ConntrackEvent.ReclaimedTcpHalfOpen) > 0);
        AssertCountsMatchTable(dp, service);

        Assert.True(dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(901)) > 0);

        Assert.Empty(dp.Program.Conntrack.Keys());
        Assert.All(service.Backends, b => Assert.Equal(default, dp.Program.BackendConns[dp.Dataplane.BackendId(service.Key!, b)]));
        Assert.Equal(0UL, dp.Program.LiveConnections());
        Assert.Equal(0, OccupiedIndexSlots(dp));
    }

    [Fact]
    public void TheSweeperResumesWhereItStoppedAndLooksUpOnlyWhatIsDue()
    {
        var service = DataPathHarness.WebService(Protocol.Udp);
        using var dp = new DataPathHarness(Small(service, 4000));
        for (int i = 0; i < 3000; i++)
            dp.Run(new PacketBuilder { Source = new IPAddress([10, 7, (byte)(i >> 8), (byte)i]), Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp, DestPort = 80 }.Build());
        uint windows = dp.Program.SweepIndex.MaxEntries;            // 1,000 windows of 8

        var idle = dp.Dataplane.Sweeper.Tick(windows);
        Assert.Equal((0, 3000, true), (idle.Ended, idle.Live, idle.Wrapped));

        var slices = new List<SweepResult>();
        for (int t = 0; t < 4; t++)
            slices.Add(dp.Dataplane.Sweeper.Tick(300, TimeSpan.FromSeconds(301)));

        Assert.Equal([false, false, false, true], slices.Select(s => s.Wrapped));
        Assert.Equal(3000, slices.Sum(s => s.Ended));
        Assert.Equal(0, dp.Program.Conntrack.Count());
        Assert.Equal(3000UL, Event(dp, ConntrackEvent.ExpiredIdle));
        AssertCountsMatchTable(dp, service);
    }

    [Fact]
    public void AConnectionIdlePastItsTimeoutIsGoneForItsNextPacketBeforeTheSweeperComes()
    {
        var service = DataPathHarness.WebService(Protocol.Udp);
        using var dp = new DataPathHarness(Small(service, 16) with { Timeouts = new Timeouts(Tcp: 900, TcpFin: 120, Udp: 1) }, mockFib: true);
        var first = dp.Forward(Udp(1000)).Destination;

        Thread.Sleep(2100);                                         // udpTimeout is 1 s; timestamps move once a second
        var second = dp.Forward(Udp(1000)).Destination;

        Assert.NotEqual(first, second);                             // rescheduled: rr's next
        Assert.Equal(1UL, Event(dp, ConntrackEvent.ExpiredIdle));
        Assert.Equal(2UL, Event(dp, ConntrackEvent.Opened));
        AssertCountsMatchTable(dp, service);
    }

    [Fact]
    public void RemovingABackendEndsItsConnectionsInTheKernel()
    {
        var service = DataPathHarness.WebService(Protocol.Udp);
        using var dp = new DataPathHarness(Small(service, 64));
        for (ushort p = 5000; p < 5030; p++)
            dp.Run(Udp(p).Build());

        dp.Dataplane.Apply(Small(service with { Backends = service.Backends.Take(2).ToList() }, 64));

        Assert.Equal(10UL, Event(dp, ConntrackEvent.ExpiredBackendRemoved));
        Assert.Equal(40, dp.Program.Conntrack.Count());
        Assert.DoesNotContain(dp.Program.Conntrack.Entries(), e => e.Value.NatAddr.ToIPAddress(System.Net.Sockets.AddressFamily.InterNetwork).Equals(B[2]));
        AssertCountsMatchTable(dp, service with { Backends = service.Backends.Take(2).ToList() });
    }
}
