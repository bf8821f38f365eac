using Microsoft.Extensions.Logging;
using XdpLb.Agent;
using XdpLb.Bpf;
using XdpLb.Bpf.Btf;
using XdpLb.Core.Config;
using XdpLb.Core.Logging;

const string Usage = """
    usage: xdplb <command> [flags]

    commands:
      run --config FILE --interface IF [--interface IF ...] [--dataplane auto|xdp|xdp-generic|ipvs]
          [--bpf-pin-dir DIR] [--state-dir DIR] [--detach-on-exit]
          load the XDP data path (adopting what an earlier agent pinned; auto falls back to
          the kernel's IPVS where XDP cannot run), fill it from FILE, and serve until
          SIGINT/SIGTERM; SIGHUP or a change of FILE re-reads it
          [--api-socket PATH] [--api-listen ADDR:PORT (--api-cert FILE --api-key FILE
          --api-client-ca FILE | --insecure-api)]: the gRPC API on the unix socket (0600), and on
          TCP with mutual TLS (or, with --insecure-api, in plaintext)
          [--cgroup-root DIR|none]: where the socket hooks attach, which balance connections
          that start on the node and in its pods (default: the cgroup v2 mount)
      run --kubernetes [--kubeconfig FILE] [--hostname-override NAME] [--kube-proxy-config FILE]
          [--healthz-address ADDR:PORT] [--interface IF ...] [--dataplane ...]
          replace kube-proxy: fill the dataplane from the cluster's Services, EndpointSlices
          and this node's Node (in-cluster config unless --kubeconfig; the node's name from
          --hostname-override or NODE_NAME; interfaces default to those holding its addresses)
      list [-n] [--stats|--rate] [-c] [--json] [--api-socket PATH]
          the services and backends as `ipvsadm -Ln` shows them (-c: the connections)
      stats [--service ADDR:PORT/PROTO] [--json] [--watch] [--api-socket PATH]
          per-backend counters and rates, and drops by reason
      cleanup [--bpf-pin-dir DIR] [--state-dir DIR] [--api-socket PATH]
          remove xdplb's state: detach the pinned XDP links and socket hooks, remove the pinned maps, the
          IPVS virtual servers xdplb owns, xdplb-ipvs0, table inet xdplb_ipvs, the state
          files; refused while an agent answers on the API socket
      cleanup --kube-proxy [--state-dir DIR]
          remove what kube-proxy leaves behind: IPVS virtual servers (not xdplb's),
          kube-ipvs0, KUBE-* iptables chains and the jumps to them, KUBE-* ipsets, the
          nftables tables ip/ip6 kube-proxy
      help
    """;

if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

// Disposed before the exit: the console logger writes on a thread of its own, flushed then.
using var loggers = AgentLogging.CreateFactory();
var log = loggers.CreateLogger("XdpLb.Agent");
try
{
    return args[0] switch
    {
        "run" => await AgentApp.RunAsync(RunOptions.Parse(args[1..]), loggers),
        "list" => ListCommand.Run(args[1..]),
        "stats" => StatsCommand.Run(args[1..]),
        "cleanup" => CleanupCommand.Run(args[1..], loggers.CreateLogger("XdpLb.Agent.Cleanup")),
        _ => throw new UsageException($"unknown command \"{args[0]}\"\n{Usage}"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"xdplb: {e.Message}");
    return 2;
}
catch (ConfigException e)
{
    log.Error("invalid config", ("errors", e.Errors.Count));
    Console.Error.WriteLine($"xdplb: {e.Message}");
    return 2;
}
catch (Exception e) when (e is BpfException or BtfLayoutException or PinnedMapsMismatchException)
{
    log.Error("bpf failure", ("error", e.Message));
    return 1;
}
catch (XdpLb.Kubernetes.KubernetesSetupException e)
{
    log.Error("kubernetes unreachable as configured", ("error", e.Message));
    Console.Error.WriteLine($"xdplb: {e.Message}");
    return 2;
}
catch (DataplaneUnavailableException e)
{
    log.Error("no dataplane", ("error", e.Message));
    Console.Error.WriteLine($"xdplb: {e.Message}");
    return 1;
}
catch (XdpLb.Ipvs.Netlink.NetlinkException e)
{
    log.Error("ipvs failure", ("error", e.Message));
    return 1;
}
catch (OperationCanceledException)
{
    // SIGTERM or SIGINT while starting (e.g. waiting for the cluster's first list): a stop, not a failure.
    log.Info("stopped");
    return 0;
}
catch (IOException e)
{
    // E.g. the API socket or the metrics address is taken: another agent runs with the same flags.
    log.Error("i/o failure", ("error", e.Message));
    return 1;
}
