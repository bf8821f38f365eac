using k8s.Models;
using XdpLb.FakeKubeApi;
using static XdpLb.Kubernetes.Tests.Translation.Objects;

namespace XdpLb.Vm.Tests;

/// <summary>
/// One node for the KubernetesIpvs tests: the netns topology, the fake API server listening
/// inside its lb namespace (the Node there holds the lb namespace's addresses), and
/// `xdplb run --kubernetes --dataplane ipvs` started once against it, as kube-proxy would be
/// on a node whose Services already exist. The agent's start is the costly part under TCG,
/// so the tests share it; each test changes only the services it owns.
/// </summary>
public sealed class KubernetesIpvsNode : IDisposable
{
    public const string NodeName = "node-a";
    public static readonly string[] NodeAddresses = ["10.0.1.1", "10.0.11.1", "10.0.12.1", "10.0.13.1"];

    private readonly string kubeconfig = Path.GetTempFileName();
    private readonly string kubeProxyConfig = Path.GetTempFileName();

    public KubernetesIpvsNode()
    {
        Topology = new NetnsTopology();
        try
        {
            Api = FakeApiServer.Start(netns: Topology.Lb);
            Api.WriteKubeconfig(kubeconfig);
            File.WriteAllText(kubeProxyConfig, """
                apiVersion: kubeproxy.config.k8s.io/v1alpha1
                kind: KubeProxyConfiguration
                mode: ipvs
                ipvs:
                  scheduler: rr
                  minSyncPeriod: 100ms
                """);
            // UDP entries that saw a reply last 30 s by default; at 120 s an entry the agent
            // should have deleted cannot have expired by itself while a test looks for it.
            Topology.Exec(Topology.Lb, "sysctl", "-qw", "net.netfilter.nf_conntrack_udp_timeout=120");
            Api.ApplyNode(NodeName, NodeAddresses);
            foreach (var obj in Services.Objects)
                Api.Apply(obj);
            agent = StartAgent();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public NetnsTopology Topology { get; }
    public KubernetesIpvsServices Services { get; } = new();
    public FakeApiServer Api { get; } = null!;
    private AgentProcess? agent;

    public AgentProcess Agent => agent ?? throw new InvalidOperationException("the agent is stopped");

    private AgentProcess StartAgent() => AgentProcess.Start(Topology.Lb,
        ["run", "--kubernetes", "--dataplane", "ipvs", "--kubeconfig", kubeconfig, "--hostname-override", NodeName,
            "--kube-proxy-config", kubeProxyConfig, .. Topology.Home.Flags]);

    /// <summary>SIGTERM; the exit status. <see cref="StartAgentAgain"/> starts another on the same state directory.</summary>
    public int StopAgent()
    {
        int status = Agent.Stop();
        agent!.Dispose();
        agent = null;
        return status;
    }

    public void StartAgentAgain() => agent = StartAgent();

    public IpvsTable Ipvs()
    {
        var r = Topology.Exec(Topology.Lb, "ipvsadm", "-Ln");
        Assert.True(r.ExitCode == 0, $"ipvsadm -Ln: {r.Stderr}");
        return IpvsTable.Parse(r.Stdout);
    }

    /// <summary>Polls ipvsadm until the condition holds; fails with the table and the agent's log after the timeout.</summary>
    public IpvsTable WaitForIpvs(Func<IpvsTable, bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        IpvsTable table;
        while (!condition(table = Ipvs()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within {timeout.TotalSeconds} s: {what}\n{table}\n{agent?.Log}");
            Thread.Sleep(200);
        }
        return table;
    }

    /// <summary>A shell script run in the client namespace (one process for many requests: each process costs under TCG).</summary>
    public string Client(string script)
    {
        var r = Topology.Exec(Topology.Client, "bash", "-c", script);
        Assert.True(r.ExitCode == 0, $"client script exited {r.ExitCode}: {r.Stderr}\n{script}");
        return r.Stdout;
    }

    /// <summary>The lb namespace's UDP conntrack entries to this address (conntrack -L lines).</summary>
    public IReadOnlyList<string> UdpConntrack(string origDst) =>
        Topology.Exec(Topology.Lb, "conntrack", "-L", "-p", "udp", "--orig-dst", origDst).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("udp", StringComparison.Ordinal)).ToList();

    public void Dispose()
    {
        agent?.Dispose();
        Api?.Dispose();
        Topology.Dispose();
        File.Delete(kubeconfig);
        File.Delete(kubeProxyConfig);
    }
}
