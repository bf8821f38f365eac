using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Core.Tests;

public class GracefulTerminationTests
{
    private static readonly Backend A = new(IPAddress.Parse("10.0.1.1"), 80), B = new(IPAddress.Parse("10.0.1.2"), 80);

    private static Service Svc(Protocol protocol, params Backend[] backends) =>
        new() { Address = IPAddress.Parse("10.96.0.10"), Port = 80, Protocol = protocol, Backends = backends };

    private static Dictionary<ServiceKey, Service> Applied(Service s) => new() { [s.Key!] = s };

    [Fact]
    public void ARemovedTCPBackendWithConnectionsStaysAtWeight0UntilTheyEnd()
    {
        var graceful = new GracefulTermination();
        var applied = Applied(Svc(Protocol.Tcp, A, B));
        var desired = new LbConfig { Services = [Svc(Protocol.Tcp, A)] };
        long bConnections = 3;
        var result = graceful.Apply(desired, applied, (_, b) => b == B ? bConnections : 0);
        Assert.Equal([A, B with { Weight = 0 }], result.Services[0].Backends);
        Assert.Equal([B with { Weight = 0 }], graceful.Draining.Values.Single());

        // Next sync: still connections; the applied state now holds B at weight 0.
        applied = Applied(result.Services[0]);
        Assert.Equal([A, B with { Weight = 0 }], graceful.Apply(desired, applied, (_, b) => b.Address.Equals(B.Address) ? bConnections : 0).Services[0].Backends);

        bConnections = 0;
        Assert.Equal([A], graceful.Apply(desired, applied, (_, _) => 0).Services[0].Backends);
        Assert.Empty(graceful.Draining);
    }

    [Fact]
    public void ARemovedBackendWithoutConnectionsGoesAtOnce()
    {
        var result = new GracefulTermination().Apply(new LbConfig { Services = [Svc(Protocol.Tcp, A)] }, Applied(Svc(Protocol.Tcp, A, B)), (_, _) => 0);
        Assert.Equal([A], result.Services[0].Backends);
    }

    [Theory]
    [InlineData(Protocol.Udp)]
    [InlineData(Protocol.Sctp)]
    public void UDPAndSCTPBackendsGoAtOnceEvenWithFlows(Protocol protocol)
    {
        var result = new GracefulTermination().Apply(new LbConfig { Services = [Svc(protocol, A)] }, Applied(Svc(protocol, A, B)), (_, _) => 5);
        Assert.Equal([A], result.Services[0].Backends);
    }

    [Fact]
    public void AnEndpointThatComesBackIsWantedAgainAtItsWeight()
    {
        var graceful = new GracefulTermination();
        var applied = Applied(Svc(Protocol.Tcp, A, B with { Weight = 0 }));
        var result = graceful.Apply(new LbConfig { Services = [Svc(Protocol.Tcp, A, B)] }, applied, (_, _) => 7);
        Assert.Equal([A, B], result.Services[0].Backends);
        Assert.Empty(graceful.Draining);
    }

    [Fact]
    public void DrainingThatWouldPassTheBackendLimitIsNotKept()
    {
        var applied = Applied(Svc(Protocol.Tcp, A, B));
        var desired = new LbConfig { Services = [Svc(Protocol.Tcp, A)], Limits = new Limits(Backends: 1) };
        var graceful = new GracefulTermination();
        Assert.Equal([A], graceful.Apply(desired, applied, (_, _) => 9).Services[0].Backends);
        Assert.Empty(graceful.Draining);
    }
}
