using System.Net;

namespace XdpLb.Kubernetes.Translation;

/// <summary>
/// One endpoint of one service port, as kube-proxy reads it from an EndpointSlice: the first
/// address, the port the slice gives for the service port's name, and the conditions (a
/// missing ready or serving is true, a missing terminating is false).
/// </summary>
public sealed record KubeEndpoint(
    IPAddress Address, ushort Port, bool Ready, bool Serving, bool Terminating, string? NodeName,
    IReadOnlySet<string> ZoneHints, IReadOnlySet<string> NodeHints)
{
    /// <summary>kube-proxy's IsLocal: the endpoint's nodeName is this node.</summary>
    public bool IsOn(string nodeName) => NodeName == nodeName;
}
