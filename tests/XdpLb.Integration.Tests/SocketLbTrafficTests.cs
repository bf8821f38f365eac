using System.Text.Json;

namespace XdpLb.Integration.Tests;

/// <summary>
/// Connections that start on the node: processes in a child of the agent's --cgroup-root,
/// in the lb namespace (the node), reach services through the socket hooks, with the XDP
/// path's scheduler state. sock_probe prints what getpeername/recvfrom show.
/// </summary>
public sealed class SocketLbTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly TestCgroup cgroup = new();
    private readonly string configFile = Path.GetTempFileName();

    private static string Backends(int port, int count = 3) =>
        string.Join(", ", NetnsTopology.BackendAddresses.Take(count).Select(a => $"{{address: {a}, port: {port}}}"));

    private static string Config(int webBackends = 3) => $$"""
        sync: {minSyncPeriod: 100ms}
        services:
          - {name: web, address: 10.96.0.10, port: 80, protocol: tcp, scheduler: rr, backends: [{{Backends(8080, webBackends)}}]}
          - {name: dns, address: 10.96.0.10, port: 53, protocol: udp, scheduler: rr, backends: [{{Backends(9000)}}]}
          - {name: sticky, address: 10.96.0.11, port: 80, protocol: tcp, scheduler: rr, persistence: 10800, backends: [{{Backends(8080)}}]}
          - {name: least, address: 10.96.0.12, port: 80, protocol: tcp, scheduler: lc, backends: [{{Backends(8080)}}]}
        """;

    private static string SockProbe => Path.Combine(Repo.Root, "tests", "netns", "build", "sock_probe");

    private AgentProcess StartAgent(params string[] extra)
    {
        File.WriteAllText(configFile, Config());
        var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, ["--cgroup-root", cgroup.Root, .. extra]));
        Assert.Contains("msg=\"socket-level load balancing attached\"", agent.Log);
        return agent;
    }

    /// <summary>A TCP connection from the node: (what getpeername showed, the backend that answered).</summary>
    private (string Peer, string Backend) ConnectFromNode(string vip, int port = 80)
    {
        var lines = cgroup.Check(topology.Lb, SockProbe, "tcp", vip, port.ToString()).Trim().Split('\n');
        return (lines[0], lines[^1].Trim());
    }

    private string GetFromClient()
    {
        var r = topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", $"http://{NetnsTopology.Vip}/");
        Assert.True(r.ExitCode == 0, $"curl exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout.Trim();
    }

    private ShellResult Cli(params string[] args) =>
        Shell.Run(Repo.Agent, args.Append("--api-socket").Append(topology.Home.ApiSocket), TimeSpan.FromSeconds(30));

    [Fact]
    public void ANodeProcessReachesTheBackendsInRoundRobinOrderAndSeesTheVipAsItsPeer()
    {
        using var agent = StartAgent();

        var answers = Enumerable.Range(0, 6).Select(_ => ConnectFromNode(NetnsTopology.Vip)).ToList();

        // IPVS's rr over b1, b2, b3 (added in that order) picks b3 first.
        Assert.Equal(["b3", "b2", "b1", "b3", "b2", "b1"], answers.Select(a => a.Backend));
        Assert.All(answers, a => Assert.Equal("peer 10.96.0.10:80", a.Peer));
        // An IPv6 socket reaching the IPv4 service (::ffff:a.b.c.d) continues the sequence.
        var mapped = ConnectFromNode("::ffff:10.96.0.10");
        Assert.Equal(("peer [::ffff:10.96.0.10]:80", "b3"), mapped);

        // Counted per backend beside the XDP counters: two connections each (plus the mapped one to b3).
        var stats = Cli("list", "--stats");
        Assert.True(stats.ExitCode == 0, stats.Stderr);
        Assert.Contains("Socket-level translations", stats.Stdout);
        Assert.Matches(@"-> 10\.0\.13\.2:8080\s+3\s+0\n", stats.Stdout);
        Assert.Matches(@"-> 10\.0\.12\.2:8080\s+2\s+0\n", stats.Stdout);
        using var json = JsonDocument.Parse(Cli("stats", "--json").Stdout);
        var web = json.RootElement.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "web");
        Assert.Equal(7, web.GetProperty("backends").EnumerateArray().Sum(b => int.Parse(b.GetProperty("socket").GetProperty("connects").GetString()!)));
        Assert.Equal(7, int.Parse(json.RootElement.GetProperty("counters").GetProperty("sock_connect").GetString()!));
    }

    [Fact]
    public void RoundRobinContinuesItsSequenceAcrossTheXdpPathAndTheSocketPath()
    {
        using var agent = StartAgent();

        // One sequence b3, b2, b1, b3, b2, b1, whichever path takes each connection.
        var answers = new[]
        {
            GetFromClient(), ConnectFromNode(NetnsTopology.Vip).Backend, GetFromClient(),
            ConnectFromNode(NetnsTopology.Vip).Backend, ConnectFromNode(NetnsTopology.Vip).Backend, GetFromClient(),
        };

        Assert.Equal(["b3", "b2", "b1", "b3", "b2", "b1"], answers);
    }

    [Fact]
    public void AnUnconnectedUdpSocketGetsItsAnswersFromTheVipAndKeepsOneBackend()
    {
        using var agent = StartAgent();

        var first = cgroup.Check(topology.Lb, SockProbe, "udp", NetnsTopology.Vip, "53", "3").Trim().Split('\n');
        var second = cgroup.Check(topology.Lb, SockProbe, "udp", NetnsTopology.Vip, "53", "2").Trim().Split('\n');

        // recvfrom shows the VIP; one socket's datagrams go to one backend; the next socket to the next.
        Assert.Equal(Enumerable.Repeat("from 10.96.0.10:53 b3 5", 3), first);
        Assert.Equal(Enumerable.Repeat("from 10.96.0.10:53 b2 5", 2), second);
        var stats = Cli("list", "--stats").Stdout;
        Assert.Matches(@"-> 10\.0\.13\.2:9000\s+0\s+3\n", stats);
        Assert.Matches(@"-> 10\.0\.12\.2:9000\s+0\s+2\n", stats);
    }

    [Fact]
    public void AnUnconnectedSocketLeavesABackendThatLeftEvenOnceItsIdPassesToAnother()
    {
        // b1 answers on a second port too: a backend for the removed one's id to pass to.
        Shell.Check("bash", "-c", $"ip netns exec {topology.Prefix}b1 {NetnsTopology.UdpEcho} serve 9001 b1x </dev/null >/dev/null 2>&1 &");
        static string Dns(params string[] backends) => $$"""
            sync: {minSyncPeriod: 100ms}
            services:
              - {name: dns, address: 10.96.0.10, port: 53, protocol: udp, scheduler: rr, backends: [{{string.Join(", ", backends.Select(b => $"{{address: {b.Split(':')[0]}, port: {b.Split(':')[1]}}}"))}}]}
            """;
        File.WriteAllText(configFile, Dns("10.0.11.2:9000", "10.0.12.2:9000", "10.0.13.2:9000"));
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--cgroup-root", cgroup.Root));
        // One socket, three datagrams 3 s apart; both changes land between its first and second.
        var psi = new System.Diagnostics.ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in cgroup.Argv(topology.Lb, SockProbe, "udp", "10.96.0.10", "53", "3", "3000"))
            psi.ArgumentList.Add(a);
        using var probe = System.Diagnostics.Process.Start(psi)!;
        Assert.Equal("from 10.96.0.10:53 b3 5", probe.StandardOutput.ReadLine());

        File.WriteAllText(configFile, Dns("10.0.11.2:9000", "10.0.12.2:9000")); // b3 leaves: its id is free
        agent.Reload();
        File.WriteAllText(configFile, Dns("10.0.11.2:9000", "10.0.12.2:9000", "10.0.11.2:9001")); // b1x takes that id
        agent.Reload();
        var rest = probe.StandardOutput.ReadToEnd().Trim().Split('\n');
        probe.WaitForExit();

        Assert.True(probe.ExitCode == 0, probe.StandardError.ReadToEnd());
        Assert.Equal(2, rest.Length);
        Assert.All(rest, line => Assert.DoesNotContain(" b3 ", line));
        Assert.Single(rest.Distinct()); // a new choice, kept
    }

    [Fact]
    public void ClientIpAffinityHoldsForALocalClient()
    {
        using var agent = StartAgent();

        var answers = Enumerable.Range(0, 5).Select(_ => ConnectFromNode("10.96.0.11").Backend).ToList();

        Assert.Single(answers.Distinct());
        // The template is the XDP path's: `list -c` is IPVS's connection table, the template shows in the affinity count.
        Assert.Contains("persistent 10800", Cli("list").Stdout);
    }

    [Fact]
    public void ARemovedBackendIsNoLongerChosenAtConnect()
    {
        using var agent = StartAgent();
        Assert.Equal("b3", ConnectFromNode(NetnsTopology.Vip).Backend);

        File.WriteAllText(configFile, Config(webBackends: 2)); // b3 leaves
        agent.Reload();

        var answers = Enumerable.Range(0, 6).Select(_ => ConnectFromNode(NetnsTopology.Vip).Backend).ToList();
        Assert.DoesNotContain("b3", answers);
        Assert.Equal(["b1", "b2"], answers.Distinct().Order());
    }

    [Fact]
    public void AnOpenConnectionFromTheNodeCountsAsActiveForLeastConnection()
    {
        using var agent = StartAgent();

        // A connection a node process holds open is one active connection of its backend, as
        // IPVS counts it; lc then sends the next connections elsewhere.
        using var held = System.Diagnostics.Process.Start("sh", cgroup.Argv(topology.Lb, "bash", "-c", "exec 3<>/dev/tcp/10.96.0.12/80; sleep 30"))!;
        string? busy = null;
        for (int i = 0; i < 100 && busy is null; i++)
        {
            Thread.Sleep(100);
            busy = ActiveBackends("10.96.0.12").SingleOrDefault();
        }
        Assert.NotNull(busy);

        var next = Enumerable.Range(0, 2).Select(_ => ConnectFromNode("10.96.0.12").Backend).ToList();

        Assert.DoesNotContain("b" + (Array.IndexOf(NetnsTopology.BackendAddresses, busy) + 1), next);
        held.Kill(entireProcessTree: true);
        held.WaitForExit();
        // Closed: the count goes back (CLOSE gives it back).
        for (int i = 0; i < 100 && ActiveBackends("10.96.0.12").Count > 0; i++)
            Thread.Sleep(100);
        Assert.Empty(ActiveBackends("10.96.0.12"));
    }

    /// <summary>The addresses of the service's backends with an active connection.</summary>
    private List<string> ActiveBackends(string vip)
    {
        using var json = JsonDocument.Parse(Cli("list", "--json").Stdout);
        var service = json.RootElement.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("address").GetString() == vip);
        return service.GetProperty("backends").EnumerateArray()
            .Where(b => b.TryGetProperty("activeConns", out var active) && active.GetInt32() > 0)
            .Select(b => b.GetProperty("address").GetString()!).ToList();
    }

    [Fact]
    public void TheHooksKeepBalancingWhileNoAgentRunsAndDetachOnExitRemovesThem()
    {
        using (var agent = StartAgent())
        {
            Assert.Equal("b3", ConnectFromNode(NetnsTopology.Vip).Backend);
            Assert.Equal(0, agent.Stop());
        }

        // No agent: the pinned hooks go on with the pinned maps, the rr sequence included.
        Assert.Equal(("peer 10.96.0.10:80", "b2"), ConnectFromNode(NetnsTopology.Vip));

        using (var agent = StartAgent("--detach-on-exit"))
        {
            Assert.Contains("adopted=10", agent.Log);
            Assert.Equal("b1", ConnectFromNode(NetnsTopology.Vip).Backend);
            Assert.Equal(0, agent.Stop());
        }
        Assert.Equal("", Shell.Check("bpftool", "cgroup", "show", cgroup.Root).Trim());
    }

    [Fact]
    public void TheDaemonSetsCapabilitiesAreEnoughToAttachTheHooks()
    {
        File.WriteAllText(configFile, Config());
        // deploy/03-daemonset.yaml's set, as a root process in a container gets it: the bounding set.
        string[] wrapper = ["setpriv", "--bounding-set", "-all,+net_admin,+net_raw,+bpf,+perfmon,+sys_admin,+sys_resource", "sh", "-c"];
        using var agent = AgentProcess.StartWrapped(topology.Lb, wrapper, topology.AgentArgs(configFile, "--cgroup-root", cgroup.Root));

        Assert.Contains("msg=\"socket-level load balancing attached\"", agent.Log);
        Assert.Equal(("peer 10.96.0.10:80", "b3"), ConnectFromNode(NetnsTopology.Vip));
    }

    [Fact]
    public void CleanupDetachesTheHooksAnAgentLeft()
    {
        using (var agent = StartAgent())
            Assert.Equal(0, agent.Stop());
        Assert.Contains("xdplb_connect4", Shell.Check("bpftool", "cgroup", "show", cgroup.Root));

        var r = Shell.Run(Repo.Agent, ["cleanup", .. topology.Home.Flags], TimeSpan.FromSeconds(60));

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("msg=removed what=\"socket hook xdplb_connect4 (detached from its cgroup", r.Stderr);
        Assert.Equal("", Shell.Check("bpftool", "cgroup", "show", cgroup.Root).Trim());
    }

    [Fact]
    public void WithCgroupRootNoneNothingIsAttached()
    {
        File.WriteAllText(configFile, Config());
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--cgroup-root", "none"));

        Assert.Contains("socket-level load balancing off", agent.Log);
        Assert.Equal("", Shell.Check("bpftool", "cgroup", "show", cgroup.Root).Trim());
        Assert.Contains("sock_conn", Cli("stats").Stdout); // the column is there, with "-" for each backend
        Assert.Matches(@"10\.0\.11\.2:8080 .* -\s+-\n", Cli("stats").Stdout);
    }

    [Fact]
    public void PinnedHookMapsOfAnotherBuildAreReplacedAndTheHooksServe()
    {
        File.WriteAllText(configFile, Config());
        // A map of another layout where the hooks' counters would be adopted (as after an upgrade that changed them).
        Directory.CreateDirectory(Path.Combine(topology.Home.PinDir, "maps"));
        Shell.Check("bpftool", "map", "create", Path.Combine(topology.Home.PinDir, "maps", "sock_counters"),
            "type", "array", "key", "4", "value", "4", "entries", "1", "name", "sock_counters");

        using var agent = StartAgent();

        Assert.Contains("the socket hooks' pinned maps are another build's: replaced", agent.Log);
        Assert.Equal(("peer 10.96.0.10:80", "b3"), ConnectFromNode(NetnsTopology.Vip));
        Assert.Contains("sock_connect", Cli("stats").Stdout);
    }

    [Fact]
    public void AServiceWithoutBackendsRefusesTheConnect()
    {
        File.WriteAllText(configFile, Config() + "\n  - {name: empty, address: 10.96.0.13, port: 80, protocol: tcp, backends: []}\n");
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--cgroup-root", cgroup.Root));

        var r = cgroup.Run(topology.Lb, SockProbe, "tcp", "10.96.0.13", "80");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("sock_probe connect: Connection refused", r.Stderr);
        Assert.Contains("sock_no_backend", Cli("stats").Stdout);
    }

    [Fact]
    public void ACgroupRootThatIsNotCgroupV2IsAUsageError()
    {
        File.WriteAllText(configFile, Config());
        var r = Shell.Run("ip", ["netns", "exec", topology.Lb, .. new[] { Repo.Agent }, .. topology.AgentArgs(configFile, "--cgroup-root", topology.Home.StateDir)],
            TimeSpan.FromSeconds(60));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"--cgroup-root {topology.Home.StateDir} is not a directory of a cgroup v2 filesystem, nor has one named unified", r.Stderr);
    }

    public void Dispose()
    {
        topology.Dispose();
        cgroup.Dispose();
        File.Delete(configFile);
    }
}
