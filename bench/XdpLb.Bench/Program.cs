using XdpLb.Bench;

// make bench: `fast-path XDP_PASS_OBJECT ...` (BPF_PROG_TEST_RUN) and
// `control-plane AGENT ...` (sync times, RSS, iptables-restore beside),
// `kubernetes AGENT ...` (the Kubernetes source's full sync and change latency beside the config file's),
// `throughput-config DIR ...` (the throughput bench's xdplb, iptables and nftables rule sets).
return args switch
{
    ["fast-path", .. var rest] when rest.Length >= 1 => FastPathBench.Run(rest),
    ["control-plane", .. var rest] when rest.Length >= 1 => ControlPlaneBench.Run(rest),
    ["kubernetes", .. var rest] when rest.Length >= 1 => KubernetesBench.Run(rest),
    ["throughput-config", .. var rest] when rest.Length == 4 => ThroughputConfig.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: XdpLb.Bench fast-path XDP_PASS_OBJECT [REPEAT] [NEW_CONNECTIONS] [SERVICES]\n" +
                            "       XdpLb.Bench control-plane AGENT [SERVICES] [BACKENDS]\n" +
                            "       XdpLb.Bench kubernetes AGENT [SERVICES] [BACKENDS]\n" +
                            "       XdpLb.Bench throughput-config DIR SERVICES BACKENDS CONNECTIONS");
    return 2;
}
