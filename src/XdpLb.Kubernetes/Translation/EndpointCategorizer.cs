namespace XdpLb.Kubernetes.Translation;

/// <summary>
/// kube-proxy's CategorizeEndpoints (pkg/proxy/topology.go, docs/kube-proxy.md §3): the endpoints a
/// cluster-policy virtual server uses (ready ones, narrowed by topology hints when every ready
/// endpoint carries them and one is for this node or zone; else serving+terminating ones) and
/// those a local-policy one uses (this node's ready ones, else its serving+terminating ones).
/// </summary>
public static class EndpointCategorizer
{
    public sealed record Categories(IReadOnlyList<KubeEndpoint> Cluster, IReadOnlyList<KubeEndpoint> Local, bool HasAny);

    public static Categories Categorize(IReadOnlyList<KubeEndpoint> endpoints, bool usesCluster, bool usesLocal,
        string nodeName, string? zone)
    {
        IReadOnlyList<KubeEndpoint> cluster = [];
        if (usesCluster)
        {
            var mode = TopologyMode(endpoints, nodeName, zone);
            cluster = endpoints.Where(e => e.Ready && AvailableForTopology(e, mode, nodeName, zone)).ToList();
            // Only when nothing is ready: endpoints that still serve while terminating (KEP-1669).
            if (cluster.Count == 0)
                cluster = endpoints.Where(e => e.Serving && e.Terminating).ToList();
        }
        bool hasAny = endpoints.Any(e => e.Ready || (e.Serving && e.Terminating));
        if (!usesLocal)
            return new Categories(cluster, [], hasAny);

        var local = endpoints.Where(e => e.Ready && e.IsOn(nodeName)).ToList();
        if (local.Count == 0)
            local = endpoints.Where(e => !e.Ready && e.Serving && e.Terminating && e.IsOn(nodeName)).ToList();
        return new Categories(cluster, local, hasAny);
    }

    private enum Topology { None, SameZone, SameNode }

    // Hints (trafficDistribution PreferSameNode/PreferClose, topology-mode Auto) are used only
    // when every ready endpoint has them and at least one is for us; otherwise traffic would be
    // sent nowhere, or unevenly to a partial set. Node hints come before zone hints.
    private static Topology TopologyMode(IReadOnlyList<KubeEndpoint> endpoints, string nodeName, string? zone)
    {
        bool allNodeHints = true, forNode = false, allZoneHints = true, forZone = false;
        foreach (var e in endpoints.Where(e => e.Ready))
        {
            if (e.NodeHints.Count == 0)
                allNodeHints = false;
            else if (e.NodeHints.Contains(nodeName))
                forNode = true;
            if (e.ZoneHints.Count == 0)
                allZoneHints = false;
            else if (zone is not null && e.ZoneHints.Contains(zone))
                forZone = true;
        }
        if (allNodeHints && forNode)
            return Topology.SameNode;
        return allZoneHints && forZone ? Topology.SameZone : Topology.None;
    }

    private static bool AvailableForTopology(KubeEndpoint e, Topology mode, string nodeName, string? zone) => mode switch
    {
        Topology.SameNode => e.NodeHints.Contains(nodeName),
        Topology.SameZone => zone is not null && e.ZoneHints.Contains(zone),
        _ => true,
    };
}
