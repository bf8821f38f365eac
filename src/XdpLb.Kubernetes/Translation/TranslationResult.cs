using XdpLb.Core.Model;

namespace XdpLb.Kubernetes.Translation;

/// <summary>A healthCheckNodePort to answer on, with the number of this node's ready endpoints of the service.</summary>
public sealed record HealthCheck(ServiceName Service, ushort Port, int LocalEndpoints);

/// <summary>
/// The virtual services built from one snapshot, and what was left out: Skipped are services
/// xdplb does not proxy by design (headless, ExternalName, another proxy's, SCTP on XDP);
/// Problems are objects that are wrong, each message naming the object, field and value.
/// </summary>
public sealed record TranslationResult(
    IReadOnlyList<Service> Services,
    IReadOnlyList<HealthCheck> HealthChecks,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> Problems,
    int NoLocalEndpointsInternal,
    int NoLocalEndpointsExternal);

/// <summary>What one Service gives: its virtual servers (with the kind of address each is on), and what was left out.</summary>
public sealed record ServiceTranslation(
    ServiceName Name,
    IReadOnlyList<(string Kind, Service Service)> VirtualServers,
    HealthCheck? Health,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> Problems,
    bool NoLocalInternal,
    bool NoLocalExternal);
