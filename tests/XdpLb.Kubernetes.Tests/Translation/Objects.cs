using k8s.Models;

namespace XdpLb.Kubernetes.Tests.Translation;

/// <summary>Compact builders for the Kubernetes objects the scenarios feed in.</summary>
internal static class Objects
{
    public static V1Service Service(string name, string clusterIP, params V1ServicePort[] ports) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = clusterIP,
            ClusterIPs = clusterIP == "None" ? ["None"] : clusterIP.Split(','),
            IpFamilies = clusterIP == "None" ? null : clusterIP.Split(',').Select(ip => ip.Contains(':') ? "IPv6" : "IPv4").ToList(),
            Ports = ports,
        },
    };

    public static V1ServicePort Port(int port, string? name = null, string protocol = "TCP", int? nodePort = null) =>
        new() { Port = port, Name = name, Protocol = protocol, NodePort = nodePort };

    private static int sliceNumber;

    /// <summary>A slice of the named service; ports are (name, port, protocol).</summary>
    public static V1EndpointSlice Slice(string service, string addressType, (string? Name, int Port, string Protocol)[] ports, params V1Endpoint[] endpoints) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            Name = $"{service}-{Interlocked.Increment(ref sliceNumber)}",
            NamespaceProperty = "default",
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service },
        },
        AddressType = addressType,
        Ports = ports.Select(p => new Discoveryv1EndpointPort { Name = p.Name, Port = p.Port, Protocol = p.Protocol }).ToList(),
        Endpoints = endpoints.ToList(),
    };

    public static V1EndpointSlice Slice(string service, int port, params V1Endpoint[] endpoints) =>
        Slice(service, endpoints.Any(e => e.Addresses[0].Contains(':')) ? "IPv6" : "IPv4", [(null, port, "TCP")], endpoints);

    public static V1Endpoint Endpoint(string ip, bool? ready = true, bool? serving = null, bool? terminating = null, string? node = null,
        string[]? zones = null, string[]? nodes = null) => new()
    {
        Addresses = [ip],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating },
        NodeName = node,
        Hints = zones is null && nodes is null ? null : new V1EndpointHints
        {
            ForZones = zones?.Select(z => new V1ForZone { Name = z }).ToList(),
            ForNodes = nodes?.Select(n => new V1ForNode { Name = n }).ToList(),
        },
    };
}
