using System.Net;
using k8s.Models;
using XdpLb.Core.Model;
using XdpLb.Kubernetes.Translation;

namespace XdpLb.Kubernetes;

/// <summary>The desired state of Core built from what the watches hold now.</summary>
public static class KubernetesDesiredState
{
    public static (LbConfig Config, TranslationResult Result) Build(ClusterSnapshot snapshot, string nodeName, V1Node? node,
        ProxySettings settings, IReadOnlyList<IPAddress> localAddresses, Limits limits, bool sctpSupported)
    {
        var context = new NodeContext(nodeName, NodeAddressing.NodePortAddresses(localAddresses, settings, node),
            node?.Labels() is { } labels && labels.TryGetValue(NodeAddressing.ZoneLabel, out var zone) ? zone : null);
        var result = ServiceTranslator.Translate(snapshot, context, settings, sctpSupported);
        var config = new LbConfig
        {
            Timeouts = settings.Timeouts,
            Sync = settings.Sync,
            Limits = limits,
            ClusterCidrs = settings.ClusterCidrs.Select(c => c.ToString()).ToList(),
            Services = result.Services,
        };
        return (config, result);
    }
}
