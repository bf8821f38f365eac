using k8s;
using k8s.Models;
using static XdpLb.Kubernetes.Tests.Translation.Objects;

namespace XdpLb.Vm.Tests;

/// <summary>
/// The Services and EndpointSlices the KubernetesIpvs node starts with. The topology's
/// backends stand in for the pods: HTTP on 8080, UDP on 9000 (udp_echo), SCTP on 7000 where a
/// test starts a listener. The first five are never changed; each test that changes
/// endpoints has a service of its own, so the tests do not depend on each other's order.
/// </summary>
public sealed class KubernetesIpvsServices
{
    public const string B1 = "10.0.11.2", B2 = "10.0.12.2", B3 = "10.0.13.2";

    public const string Web = "10.96.0.10", NodePortService = "10.96.0.11", Sctp = "10.96.0.30", Sticky = "10.96.0.40", Dns = "10.96.0.53";
    public const int NodePort = 30080;

    /// <summary>Changed by the tests: an EndpointSlice update, graceful termination, a UDP endpoint removed.</summary>
    public const string Churn = "10.96.0.20", Drain = "10.96.0.60", DnsChurn = "10.96.0.63";

    public KubernetesIpvsServices()
    {
        ChurnSlice = Slice("churn", 8080, Endpoint(B1), Endpoint(B2), Endpoint(B3));
        DrainSlice = Slice("drain", 8080, Endpoint(B1), Endpoint(B2));
        DnsChurnSlice = Slice("dns-churn", "IPv4", [("dns", 9000, "UDP")], Endpoint(B1), Endpoint(B2));
    }

    public V1EndpointSlice ChurnSlice { get; }
    public V1EndpointSlice DrainSlice { get; }
    public V1EndpointSlice DnsChurnSlice { get; }

    public IEnumerable<IKubernetesObject<V1ObjectMeta>> Objects
    {
        get
        {
            yield return Service("web", Web, Port(80, name: "http"));
            yield return Slice("web", "IPv4", [("http", 8080, "TCP")], Endpoint(B1), Endpoint(B2), Endpoint(B3));

            var nodePort = Service("np", NodePortService, Port(80, nodePort: NodePort));
            nodePort.Spec.Type = "NodePort";
            yield return nodePort;
            yield return Slice("np", 8080, Endpoint(B1), Endpoint(B2));

            // DNS-like: named ports whose targetPort names the pods' port, which is another number.
            yield return Service("dns", Dns, DnsPort("dns", "UDP"), DnsPort("dns-tcp", "TCP"));
            yield return Slice("dns", "IPv4", [("dns", 9000, "UDP"), ("dns-tcp", 8080, "TCP")], Endpoint(B1), Endpoint(B2));

            yield return Service("sctp", Sctp, Port(7000, protocol: "SCTP"));
            yield return Slice("sctp", "IPv4", [(null, 7000, "SCTP")], Endpoint(B1), Endpoint(B2));

            var sticky = Service("sticky", Sticky, Port(80));
            sticky.Spec.SessionAffinity = "ClientIP"; // timeoutSeconds left out: kube-proxy's 10800
            yield return sticky;
            yield return Slice("sticky", 8080, Endpoint(B1), Endpoint(B2), Endpoint(B3));

            yield return Service("churn", Churn, Port(80));
            yield return ChurnSlice;
            yield return Service("drain", Drain, Port(80));
            yield return DrainSlice;
            yield return Service("dns-churn", DnsChurn, DnsPort("dns", "UDP"));
            yield return DnsChurnSlice;
        }
    }

    public static V1ServicePort DnsPort(string name, string protocol)
    {
        var port = Port(53, name: name, protocol: protocol);
        port.TargetPort = name;
        return port;
    }
}
