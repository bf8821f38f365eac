using System.Net;
using k8s.Models;
using XdpLb.Core.Model;
using XdpLb.Kubernetes.Translation;

namespace XdpLb.Kubernetes;

/// <summary>The desired state of Core built from what the watches hold now.</summary>
public static class KubernetesDesiredState
{
    /// <param name="cache">Keeps each service's translation between builds (the agent's); null translates everything.</param>
    public static (LbConfig Config, TranslationResult Result) Build(ClusterSnapshot snapshot, string nodeName, V1Node? node,
        ProxySettings settings, IReadOnlyList<IPAddress> localAddresses, Limits limits, bool sctpSupported, TranslationCache? cache = null)
    {
        var context = new NodeContext(nodeName, NodeAddressing.NodePortAddresses(localAddresses, settings, node),
            node?.Labels() is { } labels && labels.TryGetValue(NodeAddressing.ZoneLabel, out var zone) ? zone : null);
        var result = WithinLimits(cache?.Translate(snapshot, context, settings, sctpSupported)
            ?? ServiceTranslator.Translate(snapshot, context, settings, sctpSupported), limits);
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

    /// <summary>
    /// The maps are sized at load: what does not fit is left out, named, rather than failing
    /// every sync (the virtual servers that fit keep being served and updated).
    /// </summary>
    private static TranslationResult WithinLimits(TranslationResult result, Limits limits)
    {
        var kept = new List<XdpLb.Core.Model.Service>(Math.Min(result.Services.Count, (int)limits.Services));
        var problems = result.Problems.ToList();
        long backends = 0;
        foreach (var service in result.Services)
        {
            if (kept.Count == limits.Services)
                problems.Add($"service {service.Name} ({service.Key}): left out: limits.services ({limits.Services}) virtual servers are served already");
            else if (backends + service.Backends.Count > limits.Backends)
                problems.Add($"service {service.Name} ({service.Key}): left out: its {service.Backends.Count} backends would pass limits.backends ({limits.Backends})");
            else
            {
                kept.Add(service);
                backends += service.Backends.Count;
            }
        }
        return kept.Count == result.Services.Count ? result : result with { Services = kept, Problems = problems };
    }
}
