using k8s.Models;

namespace XdpLb.Kubernetes;

/// <summary>
/// Whether load balancers should keep sending traffic through this node (kube-proxy's
/// SyncNode): not while the Node is being deleted, nor once the cluster autoscaler has
/// tainted it for removal, so connections drain before the node goes.
/// </summary>
public static class NodeEligibility
{
    /// <summary>The taint the cluster autoscaler puts on a node it is about to delete.</summary>
    public const string ToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler";

    public static bool IsEligible(V1Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Metadata?.DeletionTimestamp is not null)
            return false;
        return node.Spec?.Taints?.Any(t => t.Key == ToBeDeletedTaint) != true;
    }
}
