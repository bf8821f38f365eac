using System.Net;
using k8s.Models;
using XdpLb.Core.Model;
using XdpLb.Kubernetes.Translation;
using static XdpLb.Kubernetes.Tests.Translation.Objects;

namespace XdpLb.Kubernetes.Tests.Translation;

/// <summary>
/// Scenarios of kube-proxy's IPVS proxier (docs/kube-proxy.md §2–§4): Service and EndpointSlice
/// objects in, virtual and real servers out.
/// </summary>
public class ServiceTranslatorTests
{
    private static readonly NodeContext Node = new("node-a", [IPAddress.Parse("192.168.1.10"), IPAddress.Parse("fd00::10")], "zone-a");

    private static TranslationResult Translate(IEnumerable<V1Service> services, IEnumerable<V1EndpointSlice> slices,
        ProxySettings? settings = null, NodeContext? node = null, bool sctp = true) =>
        ServiceTranslator.Translate(ClusterSnapshot.Of(services, slices), node ?? Node, settings ?? new ProxySettings(), sctp);

    [Fact]
    public void ClusterIPPortGoesToTheReadyEndpointsOnTheSlicePort()
    {
        var result = Translate([Service("web", "10.96.0.10", Port(80))],
            [Slice("web", 8080, Endpoint("10.0.1.2"), Endpoint("10.0.1.1"), Endpoint("10.0.1.3", ready: false))]);
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:8080 10.0.1.2:8080"], Describe.All(result));
        Assert.Equal("default/web", result.Services[0].Name);
    }

    [Fact]
    public void NamedPortsTakeTheirOwnSlicePortAndProtocol()
    {
        var svc = Service("dns", "10.96.0.53", Port(53, "dns", "UDP"), Port(53, "dns-tcp", "TCP"), Port(9153, "metrics"));
        var slice = Slice("dns", "IPv4", [("dns", 1053, "UDP"), ("dns-tcp", 1054, "TCP"), ("metrics", 9153, "TCP")], Endpoint("10.0.1.5"));
        Assert.Equal([
            "UDP 10.96.0.53:53 rr nat -> 10.0.1.5:1053",
            "TCP 10.96.0.53:53 rr nat -> 10.0.1.5:1054",
            "TCP 10.96.0.53:9153 rr nat -> 10.0.1.5:9153",
        ], Describe.All(Translate([svc], [slice])));
        Assert.Equal("default/dns:dns-tcp", Translate([svc], [slice]).Services[1].Name);
    }

    [Fact]
    public void DualStackServiceHasAVirtualServerPerFamilyWithThatFamilysEndpoints()
    {
        var result = Translate([Service("web", "10.96.0.10,fd00:96::10", Port(80))],
            [Slice("web", 8080, Endpoint("10.0.1.1")), Slice("web", 8080, Endpoint("fd00:1::1"))]);
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:8080", "TCP [fd00:96::10]:80 rr nat -> [fd00:1::1]:8080"], Describe.All(result));
    }

    [Fact]
    public void NodePortAnswersOnEachNodeAddressOfTheServicesFamiliesAndMasquerades()
    {
        var svc = Service("web", "10.96.0.10", Port(80, nodePort: 30080));
        svc.Spec.Type = "NodePort";
        var result = Translate([svc], [Slice("web", 8080, Endpoint("10.0.1.1"))]);
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:8080", "TCP 192.168.1.10:30080 rr masq -> 10.0.1.1:8080"], Describe.All(result));
    }

    [Fact]
    public void ExternalTrafficPolicyLocalKeepsTheClientAddressUsesLocalEndpointsAndReportsHealth()
    {
        var svc = Service("web", "10.96.0.10", Port(80, nodePort: 30080));
        svc.Spec.Type = "LoadBalancer";
        svc.Spec.ExternalTrafficPolicy = "Local";
        svc.Spec.HealthCheckNodePort = 32000;
        svc.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "203.0.113.7" }] } };
        var result = Translate([svc], [Slice("web", 8080, Endpoint("10.0.1.1", node: "node-a"), Endpoint("10.0.2.1", node: "node-b"))]);
        Assert.Equal([
            "TCP 10.96.0.10:80 rr nat -> 10.0.1.1:8080 10.0.2.1:8080",
            "TCP 203.0.113.7:80 rr nat -> 10.0.1.1:8080",
            "TCP 192.168.1.10:30080 rr nat -> 10.0.1.1:8080",
        ], Describe.All(result));
        Assert.Equal([new HealthCheck(new ServiceName("default", "web"), 32000, 1)], result.HealthChecks);
    }

    [Fact]
    public void LocalPolicyWithoutLocalEndpointsFallsBackToTheClustersAndHealthReportsNone()
    {
        var svc = Service("web", "10.96.0.10", Port(80, nodePort: 30080));
        svc.Spec.Type = "LoadBalancer";
        svc.Spec.ExternalTrafficPolicy = "Local";
        svc.Spec.HealthCheckNodePort = 32000;
        var result = Translate([svc], [Slice("web", 8080, Endpoint("10.0.2.1", node: "node-b"))]);
        Assert.Equal("TCP 192.168.1.10:30080 rr nat -> 10.0.2.1:8080", Describe.All(result)[1]);
        Assert.Equal(0, result.HealthChecks.Single().LocalEndpoints);
        Assert.Equal(1, result.NoLocalEndpointsExternal);
    }

    [Fact]
    public void ExternalIPsAndLoadBalancerIngressMasqueradeAndSourceRangesGuardTheLoadBalancerOnly()
    {
        var svc = Service("web", "10.96.0.10", Port(80));
        svc.Spec.Type = "LoadBalancer";
        svc.Spec.ExternalIPs = ["198.51.100.4"];
        svc.Spec.LoadBalancerSourceRanges = ["192.0.2.0/24", "2001:db8::/32"];
        svc.Status = new V1ServiceStatus
        {
            LoadBalancer = new V1LoadBalancerStatus
            {
                Ingress = [new V1LoadBalancerIngress { Ip = "203.0.113.7" }, new V1LoadBalancerIngress { Ip = "203.0.113.8", IpMode = "Proxy" }],
            },
        };
        var result = Translate([svc], [Slice("web", 8080, Endpoint("10.0.1.1"))]);
        Assert.Equal([
            "TCP 10.96.0.10:80 rr nat -> 10.0.1.1:8080",
            "TCP 198.51.100.4:80 rr masq -> 10.0.1.1:8080",
            "TCP 203.0.113.7:80 rr masq from 192.0.2.0/24 -> 10.0.1.1:8080",
        ], Describe.All(result));
    }

    [Theory]
    [InlineData("headless")]
    [InlineData("externalName")]
    [InlineData("proxyName")]
    [InlineData("unallocated")]
    public void ServicesKubeProxyDoesNotProxyAreSkippedWithTheReason(string kind)
    {
        var svc = Service("other", kind == "headless" ? "None" : "10.96.0.20", Port(80));
        if (kind == "externalName")
            svc.Spec.Type = "ExternalName";
        if (kind == "proxyName")
            svc.Metadata.Labels = new Dictionary<string, string> { [ServiceTranslator.ServiceProxyNameLabel] = "cilium" };
        if (kind == "unallocated")
            (svc.Spec.ClusterIP, svc.Spec.ClusterIPs) = (null, null);
        var result = Translate([svc, Service("web", "10.96.0.10", Port(80))], [Slice("other", 80, Endpoint("10.0.1.9")), Slice("web", 80, Endpoint("10.0.1.1"))]);
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80"], Describe.All(result));
        Assert.Contains("default/other", Assert.Single(result.Skipped));
    }

    [Fact]
    public void ClientIPAffinityIsPersistenceWithItsTimeoutDefault10800()
    {
        var byDefault = Service("a", "10.96.0.1", Port(80));
        byDefault.Spec.SessionAffinity = "ClientIP";
        var explicitTimeout = Service("b", "10.96.0.2", Port(80));
        explicitTimeout.Spec.SessionAffinity = "ClientIP";
        explicitTimeout.Spec.SessionAffinityConfig = new V1SessionAffinityConfig { ClientIP = new V1ClientIPConfig { TimeoutSeconds = 60 } };
        var result = Translate([byDefault, explicitTimeout], []);
        Assert.Equal(["TCP 10.96.0.1:80 rr nat persistent 10800 ->", "TCP 10.96.0.2:80 rr nat persistent 60 ->"], Describe.All(result));
    }

    [Fact]
    public void NoReadyEndpointFallsBackToServingTerminatingOnesButNeverToNotServingOnes()
    {
        var slice = Slice("web", 80,
            Endpoint("10.0.1.1", ready: false, serving: true, terminating: true),
            Endpoint("10.0.1.2", ready: false, serving: false, terminating: true),
            Endpoint("10.0.1.3", ready: false, serving: false, terminating: false));
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80"], Describe.All(Translate([Service("web", "10.96.0.10", Port(80))], [slice])));

        slice.Endpoints.Add(Endpoint("10.0.1.4"));
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.4:80"], Describe.All(Translate([Service("web", "10.96.0.10", Port(80))], [slice])));
    }

    [Fact]
    public void InternalTrafficPolicyLocalSendsClusterIPTrafficToThisNodesEndpoints()
    {
        var svc = Service("web", "10.96.0.10", Port(80));
        svc.Spec.InternalTrafficPolicy = "Local";
        var result = Translate([svc], [Slice("web", 80, Endpoint("10.0.1.1", node: "node-a"), Endpoint("10.0.2.1", node: "node-b"))]);
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80"], Describe.All(result));
        Assert.Equal(0, result.NoLocalEndpointsInternal);
    }

    [Fact]
    public void ZoneHintsNarrowTheEndpointsOnlyWhenEveryReadyEndpointHasThem()
    {
        var svc = Service("web", "10.96.0.10", Port(80));
        var hinted = Slice("web", 80, Endpoint("10.0.1.1", zones: ["zone-a"]), Endpoint("10.0.2.1", zones: ["zone-b"]),
            Endpoint("10.0.3.1", ready: false));
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80"], Describe.All(Translate([svc], [hinted])));

        var partly = Slice("web", 80, Endpoint("10.0.1.1", zones: ["zone-a"]), Endpoint("10.0.2.1"));
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80 10.0.2.1:80"], Describe.All(Translate([svc], [partly])));

        var otherZones = Slice("web", 80, Endpoint("10.0.2.1", zones: ["zone-b"]), Endpoint("10.0.3.1", zones: ["zone-c"]));
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.2.1:80 10.0.3.1:80"], Describe.All(Translate([svc], [otherZones])));
    }

    [Fact]
    public void NodeHintsOfPreferSameNodeComeBeforeZoneHints()
    {
        var slice = Slice("web", 80, Endpoint("10.0.1.1", zones: ["zone-a"], nodes: ["node-a"]),
            Endpoint("10.0.1.2", zones: ["zone-a"], nodes: ["node-c"]));
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80"], Describe.All(Translate([Service("web", "10.96.0.10", Port(80))], [slice])));
    }

    [Fact]
    public void MasqueradeAllMasqueradesClusterIPTrafficAndTheSchedulerComesFromTheSettings()
    {
        var result = Translate([Service("web", "10.96.0.10", Port(80))], [Slice("web", 80, Endpoint("10.0.1.1"))],
            new ProxySettings { MasqueradeAll = true, Scheduler = Scheduler.Mh, SchedulerFlags = [SchedulerFlag.MhPort] });
        Assert.Equal(["TCP 10.96.0.10:80 mh masq flags mh-port -> 10.0.1.1:80"], Describe.All(result));
    }

    [Fact]
    public void WithClusterCIDRClusterIPTrafficFromOutsideItIsMasqueradedAndExternalTrafficAsBefore()
    {
        var svc = Service("web", "10.96.0.10", Port(80, nodePort: 30080));
        svc.Spec.Type = "NodePort";
        var settings = new ProxySettings { ClusterCidrs = [IPNetwork.Parse("10.0.0.0/16")] };
        var result = ServiceTranslator.Translate(ClusterSnapshot.Of([svc], [Slice("web", 80, Endpoint("10.0.1.1"))]), Node, settings);
        Assert.Equal(["TCP 10.96.0.10:80 rr nat masq-outside-cluster -> 10.0.1.1:80", "TCP 192.168.1.10:30080 rr masq -> 10.0.1.1:80"],
            Describe.All(result));
        var config = KubernetesDesiredState.Build(ClusterSnapshot.Of([svc], []), "node-a", null, settings, [], new Limits(), true).Config;
        Assert.Equal(["10.0.0.0/16"], config.ClusterCidrs);
        Assert.Equal(["TCP 10.96.0.10:80 rr masq ->"], Describe.All(Translate([svc], [], settings with { MasqueradeAll = true })).Take(1));
    }

    [Fact]
    public void SCTPIsServedOnIPVSAndSkippedWithAReasonOnXDP()
    {
        var svc = Service("sig", "10.96.0.30", Port(3868, "diameter", "SCTP"), Port(80, "http"));
        var slice = Slice("sig", "IPv4", [("diameter", 3868, "SCTP"), ("http", 80, "TCP")], Endpoint("10.0.1.1"));
        Assert.Equal(["SCTP 10.96.0.30:3868 rr nat -> 10.0.1.1:3868", "TCP 10.96.0.30:80 rr nat -> 10.0.1.1:80"],
            Describe.All(Translate([svc], [slice], sctp: true)));
        var onXdp = Translate([svc], [slice], sctp: false);
        Assert.Equal(["TCP 10.96.0.30:80 rr nat -> 10.0.1.1:80"], Describe.All(onXdp));
        Assert.Contains("SCTP", Assert.Single(onXdp.Skipped));
    }

    [Fact]
    public void EndpointsListedBySeveralSlicesCountOnceAndReadyWins()
    {
        var result = Translate([Service("web", "10.96.0.10", Port(80))],
            [Slice("web", 80, Endpoint("10.0.1.1", ready: false)), Slice("web", 80, Endpoint("10.0.1.1"), Endpoint("10.0.1.2"))]);
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80 10.0.1.2:80"], Describe.All(result));
    }

    [Fact]
    public void AWrongObjectIsReportedByNameAndFieldAndTheRestIsServed()
    {
        var bad = Service("bad", "10.96.0.99", Port(80));
        bad.Spec.ExternalIPs = ["not-an-ip"];
        var clash = Service("clash", "10.96.0.11", Port(80));
        clash.Spec.ExternalIPs = ["198.51.100.4"];
        var first = Service("aaa", "10.96.0.12", Port(80));
        first.Spec.ExternalIPs = ["198.51.100.4"];
        var result = Translate([bad, clash, first],
            [Slice("bad", "IPv4", [(null, 80, "TCP")], Endpoint("10.0.1.1"), Endpoint("fd00::1")), Slice("aaa", 80, Endpoint("10.0.9.9"))]);
        Assert.Equal([
            "TCP 10.96.0.12:80 rr nat -> 10.0.9.9:80",
            "TCP 198.51.100.4:80 rr masq -> 10.0.9.9:80",
            "TCP 10.96.0.99:80 rr nat -> 10.0.1.1:80",
            "TCP 10.96.0.11:80 rr nat ->",
        ], Describe.All(result));
        Assert.Contains(result.Problems, p => p.Contains("default/bad") && p.Contains("externalIPs") && p.Contains("not-an-ip"));
        Assert.Contains(result.Problems, p => p.Contains("endpointslice default/bad-") && p.Contains("fd00::1"));
        Assert.Contains(result.Problems, p => p.Contains("default/clash") && p.Contains("198.51.100.4:80/tcp") && p.Contains("default/aaa"));
    }

    [Fact]
    public void WhatPassesTheMapLimitsIsLeftOutByNameAndTheRestServed()
    {
        var services = Enumerable.Range(1, 4).Select(i => Service($"s{i}", $"10.96.0.{i}", Port(80))).ToList();
        var slices = services.Select(s => Slice(s.Metadata.Name, 80, Endpoint("10.0.1.1"), Endpoint("10.0.1.2"))).ToList();
        var (config, result) = KubernetesDesiredState.Build(ClusterSnapshot.Of(services, slices), "node-a", null, new ProxySettings(), [],
            new Limits(Services: 3, Backends: 5), true);
        Assert.Equal(["default/s1", "default/s2"], config.Services.Select(s => s.Name));
        Assert.Contains(result.Problems, p => p.Contains("default/s3") && p.Contains("limits.backends (5)"));
        Assert.Contains(result.Problems, p => p.Contains("default/s4"));
    }

    [Fact]
    public void InternalTrafficPolicyLocalWithoutALocalEndpointLeavesAClusterIPOnlyPortEmpty()
    {
        var svc = Service("web", "10.96.0.10", Port(80, "http"), Port(81, "np", nodePort: 30081));
        svc.Spec.Type = "NodePort";
        svc.Spec.InternalTrafficPolicy = "Local";
        svc.Spec.Ports[0].NodePort = null; // a NodePort service may leave a port without one
        var slice = Slice("web", "IPv4", [("http", 80, "TCP"), ("np", 81, "TCP")], Endpoint("10.0.2.1", node: "node-b"));
        var result = Translate([svc], [slice]);
        // Port 81 is reachable from outside, so it has cluster endpoints to fall back on; port 80 is not.
        Assert.Equal([
            "TCP 10.96.0.10:80 rr nat ->",
            "TCP 10.96.0.10:81 rr nat -> 10.0.2.1:81",
            "TCP 192.168.1.10:30081 rr masq -> 10.0.2.1:81",
        ], Describe.All(result));
        Assert.Equal(1, result.NoLocalEndpointsInternal); // a service, not its ports
    }

    [Fact]
    public void MasqueradingOutsideTheClusterIsPerFamilyAndAddressesOfAFamilyTheServiceLacksAreIgnored()
    {
        var svc = Service("web", "10.96.0.10,fd00:96::10", Port(80));
        var v4Only = Service("v4", "10.96.0.11", Port(80));
        v4Only.Spec.ExternalIPs = ["198.51.100.9", "2001:db8::9"];
        var settings = new ProxySettings { ClusterCidrs = [IPNetwork.Parse("10.244.0.0/16")] };
        Assert.Equal([
            "TCP 10.96.0.10:80 rr nat masq-outside-cluster ->",
            "TCP [fd00:96::10]:80 rr nat ->",
            "TCP 10.96.0.11:80 rr nat masq-outside-cluster ->",
            "TCP 198.51.100.9:80 rr masq ->",
        ], Describe.All(Translate([v4Only, svc], [], settings)).OrderBy(l => l.Contains("10.96.0.11") || l.Contains("198.51") ? 1 : 0));
    }

    [Fact]
    public void LoadBalancerSourceRangesAreReadAsTheAPIServerTakesThem()
    {
        var svc = Service("web", "10.96.0.10", Port(80));
        svc.Spec.Type = "LoadBalancer";
        svc.Spec.LoadBalancerSourceRanges = [" 192.0.2.77/24 ", "junk"];
        svc.Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [new V1LoadBalancerIngress { Ip = "203.0.113.7" }] } };
        var result = Translate([svc], []);
        Assert.Equal("TCP 203.0.113.7:80 rr masq from 192.0.2.0/24 ->", Describe.All(result)[1]);
        Assert.Contains(result.Problems, p => p.Contains("loadBalancerSourceRanges") && p.Contains("\"junk\""));
    }

    [Fact]
    public void ATerminatingEndpointWithoutAServingConditionCountsAsServing()
    {
        var slice = Slice("web", 80, Endpoint("10.0.1.1", ready: false, serving: null, terminating: true));
        Assert.Equal(["TCP 10.96.0.10:80 rr nat -> 10.0.1.1:80"], Describe.All(Translate([Service("web", "10.96.0.10", Port(80))], [slice])));
    }
}
