using System.Net;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>ClientIP affinity as IPVS persistence templates with kube-proxy's settings.</summary>
public sealed class AffinityTests
{
    private static readonly IPAddress[] B = DataPathHarness.BackendAddresses;
    private static readonly IPAddress ClientA = IPAddress.Parse("10.0.1.2"), ClientB = IPAddress.Parse("10.0.1.3");

    private static Service Persistent(uint seconds = 10) => DataPathHarness.WebService() with { Persistence = seconds };

    private static IPAddress Connect(DataPathHarness dp, IPAddress client, ushort port, TcpFlags flags = TcpFlags.Syn)
    {
        var result = dp.Run(new PacketBuilder { Source = client, Destination = DataPathHarness.Vip, SourcePort = port, DestPort = 80, Flags = flags }.Build());
        return dp.PickedBackend(result) ?? IPAddress.None;
    }

    [Fact]
    public void LaterConnectionsOfAClientFollowItsFirst()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Persistent()), mockFib: true);

        var a = Enumerable.Range(0, 5).Select(i => Connect(dp, ClientA, (ushort)(50000 + i))).ToList();
        var b = Connect(dp, ClientB, 50000);

        Assert.All(a, x => Assert.Equal(B[2], x));
        Assert.Equal(B[1], b); // the scheduler ran once for A, so B gets rr's next
        Assert.Equal(2, dp.Program.Affinity.Keys().Count);
    }

    [Fact]
    public void WithoutPersistenceEachConnectionIsScheduled()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);

        Assert.Equal([B[2], B[1], B[0]], Enumerable.Range(0, 3).Select(i => Connect(dp, ClientA, (ushort)(50000 + i))));
        Assert.Empty(dp.Program.Affinity.Keys());
    }

    [Fact]
    public void TemplateExpiresAfterTheTimeoutOnceNoConnectionRemains()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Persistent(10)), mockFib: true);
        Connect(dp, ClientA, 50000);                       // b3, SYN_RECV (60 s)

        dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(30));
        Assert.Single(dp.Program.Affinity.Keys());         // idle past 10 s, but it controls a live connection

        dp.Dataplane.Sweeper.CollectExpired(TimeSpan.FromSeconds(61));
        Assert.Empty(dp.Program.Conntrack.Keys());
        Assert.Empty(dp.Program.Affinity.Keys());          // the connection went, and the template with it
        Assert.Equal(B[1], Connect(dp, ClientA, 50001));   // scheduled anew
    }

    [Fact]
    public void WeightZeroBackendsTemplateNoLongerApplies()
    {
        var service = Persistent();
        var config = DataPathHarness.Config(service);
        using var dp = new DataPathHarness(config, mockFib: true);
        Assert.Equal(B[2], Connect(dp, ClientA, 50000));

        dp.Dataplane.Apply(config with { Services = [service with { Backends = [service.Backends[0], service.Backends[1], service.Backends[2] with { Weight = 0 }] }] });

        var next = Connect(dp, ClientA, 50001);
        Assert.NotEqual(B[2], next);
        Assert.Equal(next, Connect(dp, ClientA, 50002));   // the rewritten template holds
        Assert.Equal(B[2], Connect(dp, ClientA, 50000, TcpFlags.Ack)); // the open connection stays
    }

    [Fact]
    public void RemovingABackendDropsItsTemplates()
    {
        var service = Persistent();
        var config = DataPathHarness.Config(service);
        using var dp = new DataPathHarness(config, mockFib: true);
        Connect(dp, ClientA, 50000);                       // b3
        Connect(dp, ClientB, 50000);                       // b2

        dp.Dataplane.Apply(config with { Services = [service with { Backends = [service.Backends[0], service.Backends[1]] }] });

        var templates = dp.Program.Affinity.Entries().ToList();
        var remaining = Assert.Single(templates);
        Assert.Equal(B[1], remaining.Value.Backend.Addr.ToIPAddress(System.Net.Sockets.AddressFamily.InterNetwork));
    }
}
