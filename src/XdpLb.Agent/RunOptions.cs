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

    public const string Usage =
        "usage: xdplb run --config FILE --interface IF [--interface IF ...] [--dataplane auto|xdp|xdp-generic|ipvs]\n" +
        "       xdplb run --kubernetes [--kubeconfig FILE] [--hostname-override NAME] [--kube-proxy-config FILE]\n" +
        "                 [--healthz-address ADDR:PORT] [--interface IF ...] [--dataplane ...]\n" +
        "                 [--bpf-pin-dir DIR] [--state-dir DIR] [--detach-on-exit] [--api-socket PATH]\n" +
        "                 [--api-listen ADDR:PORT (--api-cert FILE --api-key FILE --api-client-ca FILE | --insecure-api)]\n" +
        "                 [--metrics-address ADDR:PORT] [--cgroup-root DIR|none]";

    public static RunOptions Parse(IReadOnlyList<string> args)
    {
        string? config = null;
        var interfaces = new List<string>();
        var dataplane = DataplaneChoice.Auto;
        string pinDir = DefaultBpfPinDir, stateDir = DefaultStateDir;
        bool detachOnExit = false;
        string apiSocket = DefaultApiSocket;
        var metrics = System.Net.IPEndPoint.Parse(DefaultMetricsAddress);
        bool kubernetes = false;
        string? kubeconfig = null, hostname = null, kubeProxyConfig = null;
        System.Net.IPEndPoint? healthz = null;
        System.Net.IPEndPoint? apiListen = null;
        string? apiCert = null, apiKey = null, apiClientCa = null;
        bool insecureApi = false;
        string? cgroupRoot = null;
        var flags = new FlagReader(args, Usage);
        while (flags.Next())
        {
            string flag = flags.Flag;
            switch (flag)
            {
                case "--config":
                    config = flags.Value();
                    break;
                case "--interface":
                    string name = flags.Value();
                    if (interfaces.Contains(name))
                        throw new UsageException($"--interface {name} is given twice");
                    interfaces.Add(name);
                    break;
                case "--dataplane":
                    string choice = flags.Value();
                    dataplane = choice switch
                    {
                        "auto" => DataplaneChoice.Auto,
                        "xdp" => DataplaneChoice.Xdp,
                        "xdp-generic" => DataplaneChoice.XdpGeneric,
                        "ipvs" => DataplaneChoice.Ipvs,
                        _ => throw new UsageException($"--dataplane \"{choice}\" is not one of auto, xdp, xdp-generic, ipvs"),
                    };
                    break;
                case "--bpf-pin-dir":
                    pinDir = flags.Value();
                    break;
                case "--state-dir":
                    stateDir = flags.Value();
                    break;
                case "--detach-on-exit":
                    detachOnExit = true;
                    break;
                case "--api-socket":
                    apiSocket = flags.Value();
                    break;
                case "--metrics-address":
                    string address = flags.Value();
                    if (!System.Net.IPEndPoint.TryParse(address, out var endpoint) || endpoint.Port == 0)
                        throw new UsageException($"--metrics-address \"{address}\" is not ADDR:PORT (e.g. 127.0.0.1:9469)");
                    metrics = endpoint;
                    break;
                case "--kubernetes":
                    kubernetes = true;
                    break;
                case "--kubeconfig":
                    kubeconfig = flags.Value();
                    break;
                case "--hostname-override":
                    hostname = flags.Value();
                    break;
                case "--kube-proxy-config":
                    kubeProxyConfig = flags.Value();
                    break;
                case "--healthz-address":
                    string healthzText = flags.Value();
                    if (!System.Net.IPEndPoint.TryParse(healthzText, out var healthzEndpoint) || healthzEndpoint.Port == 0)
                        throw new UsageException($"--healthz-address \"{healthzText}\" is not ADDR:PORT (e.g. 0.0.0.0:10256)");
                    healthz = healthzEndpoint;
                    break;
                case "--api-listen":
                    string apiListenText = flags.Value();
                    if (!System.Net.IPEndPoint.TryParse(apiListenText, out var apiEndpoint) || apiEndpoint.Port == 0)
                        throw new UsageException($"--api-listen \"{apiListenText}\" is not ADDR:PORT (e.g. 10.0.0.5:9470)");
                    apiListen = apiEndpoint;
                    break;
                case "--api-cert":
                    apiCert = flags.Value();
                    break;
                case "--api-key":
                    apiKey = flags.Value();
                    break;
                case "--api-client-ca":
                    apiClientCa = flags.Value();
                    break;
                case "--insecure-api":
                    insecureApi = true;
                    break;
                case "--cgroup-root":
                    cgroupRoot = flags.Value();
                    break;
                default:
                    throw flags.Unknown();
            }
        }
        if (!kubernetes && (kubeconfig ?? hostname ?? kubeProxyConfig) is not null)
            throw new UsageException("--kubeconfig, --hostname-override and --kube-proxy-config go with --kubernetes");
        if (config is null && !kubernetes)
            throw new UsageException($"--config FILE or --kubernetes is required\n{Usage}");
        // With --kubernetes the default is the interfaces that hold the Node's addresses.
        if (interfaces.Count == 0 && !kubernetes)
            throw new UsageException($"at least one --interface IF is required\n{Usage}");
        // Last: it reads the certificate files, after every flag has been checked.
        var apiTcp = ApiTcpListener.FromFlags(apiListen, apiCert, apiKey, apiClientCa, insecureApi);
        // Relative paths are taken from the working directory, once: the agent never changes it,
        // but a unix socket must be bound by an absolute path.
        return new RunOptions(config, interfaces, dataplane, Path.GetFullPath(pinDir), Path.GetFullPath(stateDir), detachOnExit,
            Path.GetFullPath(apiSocket), metrics)
        {
            Kubernetes = kubernetes,
            Kubeconfig = kubeconfig,
            HostnameOverride = hostname,
            KubeProxyConfig = kubeProxyConfig,
            HealthzAddress = healthz,
            ApiTcp = apiTcp,
            CgroupRoot = cgroupRoot is null or SocketLbHooks.Off ? cgroupRoot : Path.GetFullPath(cgroupRoot),
        };
    }
}
