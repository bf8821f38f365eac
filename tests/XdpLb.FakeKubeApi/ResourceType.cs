using k8s.Models;

namespace XdpLb.FakeKubeApi;

/// <summary>One of the resources the fake serves, with the names the real API uses for it.</summary>
internal sealed record ResourceType(
    Type ClrType, string GroupPath, string ApiVersion, string Kind, string Plural, bool Namespaced)
{
    public static readonly ResourceType Services =
        new(typeof(V1Service), "/api/v1", "v1", "Service", "services", Namespaced: true);

    public static readonly ResourceType EndpointSlices =
        new(typeof(V1EndpointSlice), "/apis/discovery.k8s.io/v1", "discovery.k8s.io/v1", "EndpointSlice", "endpointslices", Namespaced: true);

    public static readonly ResourceType Nodes =
        new(typeof(V1Node), "/api/v1", "v1", "Node", "nodes", Namespaced: false);

    public static readonly IReadOnlyList<ResourceType> All = [Services, EndpointSlices, Nodes];

    public string ListKind => Kind + "List";

    public static ResourceType ForClrType(Type type) =>
        All.FirstOrDefault(r => r.ClrType == type)
        ?? throw new ArgumentException($"the fake API server does not serve {type.Name}", nameof(type));

    public static ResourceType ForPlural(string plural) =>
        All.FirstOrDefault(r => r.Plural == plural)
        ?? throw new ArgumentException($"unknown resource '{plural}'", nameof(plural));
}
