using Grpc.Core;
using XdpLb.Api.Controller;
using XdpLb.Api.V1;
using static XdpLb.Core.Tests.Api.Requests;

namespace XdpLb.Core.Tests.Api;

public class SpecMappingTests
{
    private static string Invalid(ServiceSpec spec)
    {
        var store = new DeclaredServices(file: null);
        var e = Assert.Throws<RpcException>(() => store.Apply(Apply("mesh", spec)));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Empty(store.List());
        return e.Status.Detail;
    }

    [Theory]
    [InlineData("10.96.0", "service.address: \"10.96.0\" is not an IP address")]
    [InlineData("10", "service.address: \"10\" is not an IP address")]
    [InlineData("", "service.address: required")]
    [InlineData("web.example", "service.address: \"web.example\" is not an IP address")]
    public void ABadAddressNamesTheFieldAndValue(string address, string expected) =>
        Assert.Contains(expected, Invalid(Spec(address)));

    [Fact]
    public void EveryMalformedFieldIsReportedWithItsPathAndValue()
    {
        var spec = Spec(port: 70000, backends: ["10.0.2.2", "10.0.2.x"]);
        spec.Protocol = "icmp";
        spec.Scheduler = "fifo";
        spec.Forwarding = "nat64";
        spec.Flags.Add("sh-sticky");
        spec.Backends[0].Weight = 70000;
        spec.Backends[0].Port = 65536;
        string message = Invalid(spec);
        Assert.Contains("service.port: 70000 is not a port (1-65535)", message);
        Assert.Contains("service.protocol: \"icmp\" is not one of tcp, udp, sctp", message);
        Assert.Contains("service.scheduler: \"fifo\" is not one of rr, wrr, lc, wlc, sh, dh, sed, nq, mh", message);
        Assert.Contains("service.forwarding: \"nat64\" is not one of nat, masq, dr, tun", message);
        Assert.Contains("service.flags[0]: \"sh-sticky\" is not one of sh-port, sh-fallback, mh-port, mh-fallback", message);
        Assert.Contains("service.backends[0].weight: 70000 is out of range (0-65535)", message);
        Assert.Contains("service.backends[0].port: 65536 is not a port (1-65535)", message);
        Assert.Contains("service.backends[1].address: \"10.0.2.x\" is not an IP address", message);
    }

    [Fact]
    public void RulesAcrossFieldsAreTheConfigFiles()
    {
        var spec = Spec(backends: ["10.0.2.2", "10.0.2.2", "fd00::2"]);
        spec.Flags.Add("mh-port");
        spec.SourceRanges.Add("10.0.0.0/33");
        string message = Invalid(spec);
        Assert.Contains("flags: \"mh-port\" does not apply to scheduler \"rr\"", message);
        Assert.Contains("backends[1] (10.0.2.2:8080): listed twice", message);
        Assert.Contains("backends[2] ([fd00::2]:8080): address: \"fd00::2\" is IPv6 but the service address is IPv4", message);
        Assert.Contains("sourceRanges: \"10.0.0.0/33\" is not a CIDR", message);
    }

    [Fact]
    public void AMissingServiceIsINVALIDARGUMENT()
    {
        var store = new DeclaredServices(file: null);
        var e = Assert.Throws<RpcException>(() => store.Apply(new ApplyServiceRequest { Controller = "mesh" }));
        Assert.Equal((StatusCode.InvalidArgument, "service: required"), (e.StatusCode, e.Status.Detail));
    }

    [Fact]
    public void AServiceMapsToTheSpecAndBackUnchanged()
    {
        var spec = new ServiceSpec
        {
            Name = "dns", Address = "fd00::53", Port = 53, Protocol = "udp", Scheduler = "mh", Flags = { "mh-port" }, Persistence = 30,
            Forwarding = "masq", SourceRanges = { "fd00::/8" },
            Backends = { new BackendSpec { Address = "fd00::2", Port = 5353, Weight = 0 }, new BackendSpec { Address = "fd00::3", Port = 53, Weight = 7 } },
        };
        Assert.Equal(spec, SpecMapping.ToSpec(SpecMapping.ToService(spec)));
    }
}
