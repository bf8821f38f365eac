namespace XdpLb.Vm.Tests;

/// <summary>
/// The same services and the same sequence of client connections, once through the kernel's
/// IPVS and once through xdplb's XDP data path (generic XDP, in the same namespaces): every
/// connection lands on the same backend. The clients use eight source addresses, so the
/// hashing schedulers see different keys; connections run one after another, so the
/// connection counts the least-connection family reads are the same on both sides.
/// </summary>
public sealed class DifferentialTests : IDisposable
{
    private static readonly string[] Schedulers = ["rr", "wrr", "sh", "dh", "mh", "lc", "wlc", "sed", "nq"];
    private const int Clients = 8;
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private static string ConfigText() => "services:\n" + string.Concat(Schedulers.Select((s, i) =>
        $"  - {{address: 10.96.1.{i + 1}, port: 80, scheduler: {s}, backends: [{{address: 10.0.11.2, port: 8080, weight: 3}}, {{address: 10.0.12.2, port: 8080, weight: 2}}, {{address: 10.0.13.2, port: 8080}}]}}\n"));

    private List<string> Sequence(string dataplane, AgentHome home)
    {
        string[] args = ["run", "--config", configFile, .. NetnsTopology.LbInterfaces.SelectMany(i => new[] { "--interface", i }), .. home.Flags,
            "--dataplane", dataplane, "--detach-on-exit"];
        using var agent = AgentProcess.Start(topology.Lb, args);
        // One shell in the client namespace for all of them: a process per request costs
        // seconds under the VM's emulation.
        string script = string.Concat(Schedulers.Select((s, i) => string.Concat(Enumerable.Range(0, Clients).Select(c =>
            $"echo \"{s} {c}: $(curl -sS --max-time 10 --interface 10.0.1.{100 + c} http://10.96.1.{i + 1}/)\"\n"))));
        var r = topology.Exec(topology.Client, "bash", "-c", script);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var answers = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.Equal(Schedulers.Length * Clients, answers.Count);
        Assert.Equal(0, agent.Stop());
        return answers;
    }

    [Fact]
    public void IpvsAndXdpPickTheSameBackendsForTheSameConnections()
    {
        for (int c = 0; c < Clients; c++)
            Shell.Check("ip", "-n", topology.Client, "addr", "add", $"10.0.1.{100 + c}/24", "dev", "eth0");
        File.WriteAllText(configFile, ConfigText());

        using var ipvsHome = new AgentHome();
        var ipvs = Sequence("ipvs", ipvsHome);
        using var xdpHome = new AgentHome();
        var xdp = Sequence("xdp-generic", xdpHome);

        Assert.Equal(ipvs, xdp);
        Assert.Contains("rr 0: b3", ipvs);                                   // the last-listed first, as IPVS adds at the head
        Assert.True(ipvs.Where(a => a.StartsWith("sh ", StringComparison.Ordinal)).Select(a => a[(a.IndexOf(':') + 2)..]).Distinct().Count() > 1, "sh spreads the clients");
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
