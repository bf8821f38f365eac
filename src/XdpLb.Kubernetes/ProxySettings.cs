using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Kubernetes;

/// <summary>
/// The parts of kube-proxy's configuration (KubeProxyConfiguration) that decide what the
/// Kubernetes source builds. Defaults are kube-proxy's; time values of 0 in the file keep
/// these defaults, as kube-proxy keeps the kernel's.
/// </summary>
public sealed record ProxySettings
{
    /// <summary>ipvs.scheduler; empty in the file means rr.</summary>
    public Scheduler Scheduler { get; init; } = Scheduler.Rr;
    /// <summary>Flags kube-proxy adds for the scheduler: mh gets FlagSourceHash, which is mh-port.</summary>
    public IReadOnlyList<SchedulerFlag> SchedulerFlags { get; init; } = [];
    public SyncSettings Sync { get; init; } = new();
    /// <summary>ipvs.tcpTimeout, ipvs.tcpFinTimeout, ipvs.udpTimeout.</summary>
    public Timeouts Timeouts { get; init; } = new();
    /// <summary>ipvs.excludeCIDRs: virtual servers there are never removed (they are not xdplb's).</summary>
    public IReadOnlyList<IPNetwork> ExcludeCidrs { get; init; } = [];
    /// <summary>clusterCIDR (comma-separated in the file): ClusterIP traffic from outside it is masqueraded.</summary>
    public IReadOnlyList<IPNetwork> ClusterCidrs { get; init; } = [];
    /// <summary>nodePortAddresses: the node addresses NodePorts answer on; empty means all.</summary>
    public IReadOnlyList<IPNetwork> NodePortAddresses { get; init; } = [];
    /// <summary>nodePortAddresses: ["primary"]: only the node's primary addresses (Node.status.addresses).</summary>
    public bool NodePortPrimaryOnly { get; init; }
    public bool MasqueradeAll { get; init; }
    /// <summary>ipvs.strictARP: the node does not answer ARP for the VIPs bound to the IPVS dummy interface (MetalLB L2 needs it).</summary>
    public bool StrictArp { get; init; }
    public string? HostnameOverride { get; init; }
    /// <summary>healthzBindAddress (default 0.0.0.0:10256).</summary>
    public IPEndPoint? HealthzBindAddress { get; init; }
    /// <summary>Things in the file worth a warning that do not stop xdplb (e.g. a mode other than ipvs).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
