using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Core.Tests;

public sealed class NodePortsTests
{
    private static readonly IPAddress[] Node = [IPAddress.Parse("10.0.1.1"), IPAddress.Parse("10.0.11.1"), IPAddress.Parse("fd00:1::1")];

    [Fact]
    public void ANodePortServiceIsServedOnEveryNodeAddressOfItsBackendsFamily()
    {
        var np = new Service { Name = "np", Port = 30080, NodePort = true, Backends = [new Backend(IPAddress.Parse("10.0.12.2"), 8080)] };

        var expanded = NodePorts.Expand(new LbConfig { Services = [np] }, Node);

        Assert.Equal(["10.0.1.1:30080/tcp", "10.0.11.1:30080/tcp"], expanded.Services.Select(s => s.Key!.ToString()));
        Assert.All(expanded.Services, s => Assert.Equal("np", s.Name));
    }

    [Fact]
    public void ExternalTrafficPolicyLocalKeepsOnlyLocalBackends()
    {
        var np = new Service
        {
            Port = 30080, NodePort = true, ExternalTrafficPolicy = TrafficPolicy.Local,
            Backends = [new Backend(IPAddress.Parse("10.0.12.2"), 8080), new Backend(IPAddress.Parse("10.0.13.2"), 8080, Local: true)],
        };

        var expanded = NodePorts.Expand(new LbConfig { Services = [np] }, Node);

        Assert.All(expanded.Services, s => Assert.Equal([IPAddress.Parse("10.0.13.2")], s.Backends.Select(b => b.Address)));
    }

    [Fact]
    public void AnExplicitServiceOnTheSameAddressAndPortWins()
    {
        var explicitOne = new Service { Name = "explicit", Address = IPAddress.Parse("10.0.1.1"), Port = 30080, Backends = [] };
        var np = new Service { Name = "np", Port = 30080, NodePort = true, Backends = [new Backend(IPAddress.Parse("10.0.12.2"), 8080)] };

        var expanded = NodePorts.Expand(new LbConfig { Services = [explicitOne, np] }, Node);

        Assert.Equal(["explicit", "np"], expanded.Services.Select(s => s.Name));
        Assert.Equal("10.0.11.1", expanded.Services[1].Address!.ToString());
    }

    [Fact]
    public void ConfigsWithoutNodePortsAreUnchanged()
    {
        var config = new LbConfig { Services = [new Service { Address = IPAddress.Parse("10.96.0.1"), Port = 80 }] };

        Assert.Same(config, NodePorts.Expand(config, Node));
    }
}
