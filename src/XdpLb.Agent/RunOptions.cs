namespace XdpLb.Agent;

public enum DataplaneChoice { Auto, Xdp, XdpGeneric, Ipvs }

/// <summary>The flags of `xdplb run` (README.md, "Running the agent").</summary>
internal sealed record RunOptions(
    string? ConfigFile,
    IReadOnlyList<string> Interfaces,
    DataplaneChoice Dataplane,
    string BpfPinDir,
    string StateDir,
    bool DetachOnExit,
    string ApiSocket,
    System.Net.IPEndPoint MetricsAddress)
{
    /// <summary>--kubernetes: the desired state comes from the cluster.</summary>
    public bool Kubernetes { get; init; }
    public string? Kubeconfig { get; init; }
    public string? HostnameOverride { get; init; }
    public string? KubeProxyConfig { get; init; }
    /// <summary>kube-proxy's healthz server (/healthz, /livez); null: from the KubeProxyConfiguration, else 0.0.0.0:10256.</summary>
    public System.Net.IPEndPoint? HealthzAddress { get; init; }
    /// <summary>--api-listen and its TLS flags: the API also on TCP; null: the unix socket only.</summary>
    public ApiTcpListener? ApiTcp { get; init; }
    /// <summary>--cgroup-root: where the socket hooks attach; null: the host's cgroup v2 mount, "none": not at all.</summary>
    public string? CgroupRoot { get; init; }

    public const string DefaultApiSocket = "/run/xdplb/xdplb.sock";
    public const string DefaultMetricsAddress = "127.0.0.1:9469";
    public const string DefaultBpfPinDir = "/sys/fs/bpf/xdplb";
    public const string DefaultStateDir = "/var/lib/xdplb";
    /// <summary>In --state-dir: the XDP dataplane's ids and list orders, for the next agent.</summary>
    public const string XdpStateFile = "xdp-dataplane.json";
    /// <summary>In --state-dir: the virtual servers xdplb owns on the IPVS dataplane.</summary>
    public const string IpvsStateFile = "ipvs-dataplane.json";
    /// <summary>In --state-dir: the services declared over the API (xdplb.v1.Controller).</summary>
    public const string ApiStateFile = "api-services.json";
}
