namespace XdpLb.Core.Model;

/// <summary>The whole desired state from one source: global settings and the services.</summary>
public sealed record LbConfig
{
    public Timeouts Timeouts { get; init; } = new();
    public SyncSettings Sync { get; init; } = new();
    public Limits Limits { get; init; } = new();
    public MasqSettings Masq { get; init; } = new();
    /// <summary>The pods' address ranges (kube-proxy's clusterCIDR), for masqueradeOutsideCluster.</summary>
    public IReadOnlyList<string> ClusterCidrs { get; init; } = [];
    public IReadOnlyList<Service> Services { get; init; } = [];
}
