using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;

namespace XdpLb.Agent;

/// <summary>`xdplb run`: its flags, and the checks between them that make a <see cref="RunOptions"/>.</summary>
internal static class RunCommandLine
{
    private static readonly Option<string?> Config = new("--config")
    {
        HelpName = "FILE",
        Description = "the YAML config: services, limits, timeouts; re-read when it changes and on SIGHUP (required, unless --kubernetes)",
    };
    private static readonly Option<string[]> Interfaces = new("--interface")
    {
        HelpName = "IF",
        Description = "an interface to serve, given once per interface (with --kubernetes: default those that hold the Node's addresses)",
    };
    private static readonly Option<DataplaneChoice> Dataplane = new("--dataplane")
    {
        HelpName = "auto|xdp|xdp-generic|ipvs",
        Description = "auto: native XDP, else generic per interface, else the kernel's IPVS where XDP cannot run (default: auto)",
        CustomParser = result =>
        {
            // Each value is checked; given twice, the last counts.
            var choice = DataplaneChoice.Auto;
            foreach (var token in result.Tokens)
            {
                switch (token.Value)
                {
                    case "auto": choice = DataplaneChoice.Auto; break;
                    case "xdp": choice = DataplaneChoice.Xdp; break;
                    case "xdp-generic": choice = DataplaneChoice.XdpGeneric; break;
                    case "ipvs": choice = DataplaneChoice.Ipvs; break;
                    default:
                        result.AddError($"--dataplane \"{token.Value}\" is not one of auto, xdp, xdp-generic, ipvs");
                        return DataplaneChoice.Auto;
                }
            }
            return choice;
        },
    };
    private static readonly Option<string> BpfPinDir = CommonOptions.BpfPinDir();
    private static readonly Option<string> StateDir = CommonOptions.StateDir();
    private static readonly Option<bool> DetachOnExit = CommonOptions.Flag("--detach-on-exit",
        "on exit, detach XDP and the socket hooks (or remove the IPVS virtual servers); by default they stay and keep serving");
    private static readonly Option<string> ApiSocket = CommonOptions.ApiSocket("the local gRPC API's unix socket (mode 0600)");
    private static readonly Option<IPEndPoint?> MetricsAddress = EndpointOption.Create("--metrics-address",
        "/metrics (Prometheus), /healthz and /readyz", "127.0.0.1:9469", RunOptions.DefaultMetricsAddress);
    private static readonly Option<bool> Kubernetes = CommonOptions.Flag("--kubernetes",
        "replace kube-proxy: serve the cluster's Services, EndpointSlices and this node's Node");
    private static readonly Option<string?> Kubeconfig = new("--kubeconfig")
    {
        HelpName = "FILE",
        Description = "with --kubernetes: the cluster's kubeconfig (default: the in-cluster config)",
    };
    private static readonly Option<string?> HostnameOverride = new("--hostname-override")
    {
        HelpName = "NAME",
        Description = "with --kubernetes: this node's name (default: NODE_NAME)",
    };
    private static readonly Option<string?> KubeProxyConfig = new("--kube-proxy-config")
    {
        HelpName = "FILE",
        Description = "with --kubernetes: a KubeProxyConfiguration (default: kube-proxy's defaults)",
    };
    private static readonly Option<IPEndPoint?> HealthzAddress = EndpointOption.Create("--healthz-address",
        "with --kubernetes: kube-proxy's healthz server (default: the kube-proxy config's, else 0.0.0.0:10256)", "0.0.0.0:10256");
    private static readonly Option<IPEndPoint?> ApiListen = EndpointOption.Create("--api-listen",
        "also serve the gRPC API on TCP, with mutual TLS (--api-cert, --api-key, --api-client-ca) or --insecure-api", "10.0.0.5:9470");
    private static readonly Option<string?> ApiCert = new("--api-cert") { HelpName = "FILE", Description = "with --api-listen: the PEM server certificate chain" };
    private static readonly Option<string?> ApiKey = new("--api-key") { HelpName = "FILE", Description = "with --api-listen: its PEM private key" };
    private static readonly Option<string?> ApiClientCa = new("--api-client-ca")
    {
        HelpName = "FILE",
        Description = "with --api-listen: the PEM bundle a client's certificate must chain to",
    };
    private static readonly Option<bool> InsecureApi = CommonOptions.Flag("--insecure-api",
        "with --api-listen: plaintext and unauthenticated, instead of mutual TLS");
    private static readonly Option<string?> CgroupRoot = new("--cgroup-root")
    {
        HelpName = "DIR|none",
        Description = "where the socket hooks attach, which balance connections that start on the node and in its pods " +
            "(default: the cgroup v2 mount); none: not at all",
    };

    public static Command Create(ILoggerFactory loggers)
    {
        var command = new Command("run",
            "load the XDP data path (adopting what an earlier agent pinned; auto falls back to the kernel's IPVS where XDP cannot run), " +
            "fill it from the config file or the cluster, and serve until SIGINT/SIGTERM; SIGHUP or a change of the file re-reads it")
        {
            Config, Interfaces, Dataplane, BpfPinDir, StateDir, DetachOnExit, ApiSocket, MetricsAddress,
            Kubernetes, Kubeconfig, HostnameOverride, KubeProxyConfig, HealthzAddress,
            ApiListen, ApiCert, ApiKey, ApiClientCa, InsecureApi, CgroupRoot,
        };
        command.SetAction((parse, _) => AgentApp.RunAsync(Bind(parse), loggers));
        return CommonOptions.LastValueWins(command);
    }

    /// <summary>The flags as options, after the checks no single flag can make.</summary>
    internal static RunOptions Bind(ParseResult parse)
    {
        string? config = parse.GetValue(Config);
        var interfaces = parse.GetValue(Interfaces) ?? [];
        bool kubernetes = parse.GetValue(Kubernetes);
        string? kubeconfig = parse.GetValue(Kubeconfig), hostname = parse.GetValue(HostnameOverride), kubeProxyConfig = parse.GetValue(KubeProxyConfig);
        if (interfaces.GroupBy(i => i).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new UsageException($"--interface {twice.Key} is given twice");
        if (!kubernetes && (kubeconfig ?? hostname ?? kubeProxyConfig) is not null)
            throw new UsageException("--kubeconfig, --hostname-override and --kube-proxy-config go with --kubernetes");
        if (config is null && !kubernetes)
            throw new UsageException("--config FILE or --kubernetes is required", showUsage: true);
        // With --kubernetes the default is the interfaces that hold the Node's addresses.
        if (interfaces.Length == 0 && !kubernetes)
            throw new UsageException("at least one --interface IF is required", showUsage: true);
        // Last: it reads the certificate files, after every flag has been checked.
        var apiTcp = ApiTcpListener.FromFlags(parse.GetValue(ApiListen), parse.GetValue(ApiCert), parse.GetValue(ApiKey), parse.GetValue(ApiClientCa),
            parse.GetValue(InsecureApi));
        string? cgroupRoot = parse.GetValue(CgroupRoot);
        // Relative paths are taken from the working directory, once: the agent never changes it,
        // but a unix socket must be bound by an absolute path.
        return new RunOptions(config, interfaces, parse.GetValue(Dataplane), Path.GetFullPath(parse.GetRequiredValue(BpfPinDir)),
            Path.GetFullPath(parse.GetRequiredValue(StateDir)), parse.GetValue(DetachOnExit), Path.GetFullPath(parse.GetRequiredValue(ApiSocket)),
            parse.GetRequiredValue(MetricsAddress)!)
        {
            Kubernetes = kubernetes,
            Kubeconfig = kubeconfig,
            HostnameOverride = hostname,
            KubeProxyConfig = kubeProxyConfig,
            HealthzAddress = parse.GetValue(HealthzAddress),
            ApiTcp = apiTcp,
            CgroupRoot = cgroupRoot is null or SocketLbHooks.Off ? cgroupRoot : Path.GetFullPath(cgroupRoot),
        };
    }
}
