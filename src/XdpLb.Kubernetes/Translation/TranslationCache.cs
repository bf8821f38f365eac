using k8s.Models;

namespace XdpLb.Kubernetes.Translation;

/// <summary>
/// Each Service's translation kept until the Service, one of its EndpointSlices, the node or
/// the settings change: one endpoint change in a cluster of 10,000 services then translates
/// one service, not all of them (bench/README.md, Kubernetes source). Objects without a
/// resourceVersion (never the API server's) are always translated.
/// </summary>
public sealed class TranslationCache
{
    private Dictionary<ServiceName, (string Version, ServiceTranslation Translation)> entries = new();
    private (NodeContext Node, ProxySettings Settings, bool Sctp)? context;

    public int Hits { get; private set; }
    public int Misses { get; private set; }

    public TranslationResult Translate(ClusterSnapshot snapshot, NodeContext node, ProxySettings settings, bool sctpSupported)
    {
        if (context is not { } c || !SameNode(c.Node, node) || !ReferenceEquals(c.Settings, settings) || c.Sctp != sctpSupported)
        {
            entries = new();
            context = (node, settings, sctpSupported);
        }
        var next = new Dictionary<ServiceName, (string, ServiceTranslation)>(snapshot.Services.Count);
        var translations = new List<ServiceTranslation>(snapshot.Services.Count);
        foreach (var svc in snapshot.Services)
        {
            var slices = snapshot.SlicesOf(svc);
            string? version = Version(svc, slices);
            var name = new ServiceName(svc.Namespace() ?? "", svc.Name() ?? "");
            ServiceTranslation translation;
            if (version is not null && entries.TryGetValue(name, out var cached) && cached.Version == version)
            {
                translation = cached.Translation;
                Hits++;
            }
            else
            {
                translation = ServiceTranslator.TranslateOne(svc, slices, node, settings, sctpSupported);
                Misses++;
            }
            if (version is not null)
                next[name] = (version, translation);
            translations.Add(translation);
        }
        entries = next;
        return ServiceTranslator.Merge(translations);
    }

    // The API server gives every object a new resourceVersion at each change.
    private static string? Version(V1Service svc, IReadOnlyList<V1EndpointSlice> slices)
    {
        if (svc.ResourceVersion() is not { Length: > 0 } version)
            return null;
        var text = new System.Text.StringBuilder(version);
        foreach (var slice in slices)
        {
            if (slice.ResourceVersion() is not { Length: > 0 } sliceVersion)
                return null;
            text.Append('|').Append(slice.Name()).Append(':').Append(sliceVersion);
        }
        return text.ToString();
    }

    private static bool SameNode(NodeContext a, NodeContext b) =>
        a.Name == b.Name && a.Zone == b.Zone && a.NodePortAddresses.SequenceEqual(b.NodePortAddresses);
}
