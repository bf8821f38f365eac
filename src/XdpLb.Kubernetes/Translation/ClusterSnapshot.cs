using k8s.Models;

namespace XdpLb.Kubernetes.Translation;

/// <summary>What the watches hold at one moment: the Services, and the EndpointSlices by the service they belong to.</summary>
public sealed record ClusterSnapshot(
    IReadOnlyList<V1Service> Services,
    IReadOnlyDictionary<ServiceName, IReadOnlyList<V1EndpointSlice>> SlicesByService)
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    public IReadOnlyList<V1EndpointSlice> SlicesOf(V1Service service) =>
        SlicesByService.GetValueOrDefault(new ServiceName(service.Namespace() ?? "", service.Name() ?? "")) ?? [];

    public static ClusterSnapshot Of(IEnumerable<V1Service> services, IEnumerable<V1EndpointSlice> slices) => new(
        services.OrderBy(s => s.Namespace(), StringComparer.Ordinal).ThenBy(s => s.Name(), StringComparer.Ordinal).ToList(),
        slices.Where(s => s.Labels()?.ContainsKey(ServiceNameLabel) == true)
            .GroupBy(s => new ServiceName(s.Namespace() ?? "", s.Labels()[ServiceNameLabel]))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<V1EndpointSlice>)g.OrderBy(s => s.Name(), StringComparer.Ordinal).ToList()));
}

/// <summary>This node as the translation sees it.</summary>
/// <param name="NodePortAddresses">The node addresses NodePorts answer on (nodePortAddresses already applied).</param>
/// <param name="Zone">The Node's topology.kubernetes.io/zone label, for topology hints.</param>
public sealed record NodeContext(string Name, IReadOnlyList<System.Net.IPAddress> NodePortAddresses, string? Zone);
