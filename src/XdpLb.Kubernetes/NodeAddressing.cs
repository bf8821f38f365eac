using System.Net;
using k8s.Models;

namespace XdpLb.Kubernetes;

/// <summary>Which of the node's addresses serve NodePorts, and which addresses the Node object names.</summary>
public static class NodeAddressing
{
    public const string ZoneLabel = "topology.kubernetes.io/zone";

    /// <summary>The Node's InternalIP and ExternalIP addresses (what kubelet reported).</summary>
    public static IReadOnlyList<IPAddress> Primary(V1Node? node) =>
        (node?.Status?.Addresses ?? [])
            .Where(a => a.Type is "InternalIP" or "ExternalIP")
            .Select(a => IPAddress.TryParse(a.Address, out var ip) ? ip : null)
            .OfType<IPAddress>()
            .ToList();

    /// <summary>
    /// kube-proxy's nodePortAddresses: every local address but loopback, or those inside the
    /// listed CIDRs, or with "primary" the Node's own addresses.
    /// </summary>
    public static IReadOnlyList<IPAddress> NodePortAddresses(IReadOnlyList<IPAddress> local, ProxySettings settings, V1Node? node)
    {
        var usable = local.Where(a => !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal);
        if (settings.NodePortPrimaryOnly)
        {
            var primary = Primary(node);
            return usable.Where(primary.Contains).ToList();
        }
        if (settings.NodePortAddresses.Count > 0)
            return usable.Where(a => settings.NodePortAddresses.Any(n => n.Contains(a))).ToList();
        return usable.ToList();
    }
}
