namespace XdpLb.Integration.Tests;

/// <summary>Real HTTP through the real agent on native XDP between network namespaces.</summary>
public sealed class RoundRobinTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private const string Config = """
        services:
          - name: web
            address: 10.96.0.10
            port: 80
            backends:
              - {address: 10.0.11.2, port: 8080}
              - {address: 10.0.12.2, port: 8080}
              - {address: 10.0.13.2, port: 8080}
        """;

    [Theory]
    [InlineData("xdp", "native")]
    [InlineData("xdp-generic", "generic")]
    public void ThirtyRequestsAreSpreadTenEachInIpvsRoundRobinOrder(string dataplane, string mode)
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", dataplane));
        Assert.Equal(4, agent.Log.Split('\n').Count(l => l.Contains("msg=\"xdp attached\"") && l.Contains($"mode={mode}")));

        var answers = Enumerable.Range(0, 30).Select(_ => Get()).ToList();

        // Backends listed b1, b2, b3 are added to IPVS in that order, so rr picks b3 first.
        var expected = Enumerable.Range(0, 30).Select(i => $"b{3 - i % 3}").ToList();
        Assert.True(expected.SequenceEqual(answers), $"answers: {string.Join(",", answers)}\n{agent.Log}");
        Assert.Equal(0, agent.Stop());
    }

    [Fact]
    public void WithDetachOnExitStoppingDetachesXdpFromEveryInterface()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--detach-on-exit"));
        Assert.Contains("prog/xdp", topology.Exec(topology.Lb, "ip", "link", "show", "lbc").Stdout);

        Assert.Equal(0, agent.Stop());

        foreach (var name in NetnsTopology.LbInterfaces)
            Assert.DoesNotContain("prog/xdp", topology.Exec(topology.Lb, "ip", "link", "show", name).Stdout);
        Assert.Contains("msg=stopped", agent.Log);
    }

    [Fact]
    public void ByDefaultXdpStaysAttachedAndServesAfterTheAgentStops()
    {
        File.WriteAllText(configFile, Config);
        using (var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile)))
        {
            Assert.Equal(["b3", "b2"], new[] { Get(), Get() });
            Assert.Equal(0, agent.Stop());
            Assert.Contains("xdp stays attached", agent.Log);
        }

        // No agent now: the pinned program and maps go on, rr sequence included.
        Assert.Equal(["b1", "b3", "b2"], new[] { Get(), Get(), Get() });
        Assert.Contains("prog/xdp", topology.Exec(topology.Lb, "ip", "link", "show", "lb1").Stdout);
    }

    private string Get()
    {
        var r = topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "-H", "Connection: close", $"http://{NetnsTopology.Vip}/");
        Assert.True(r.ExitCode == 0, $"curl exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout.Trim();
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
