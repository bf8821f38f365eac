using System.Diagnostics;

namespace XdpLb.Integration.Tests;

/// <summary>Schedulers, affinity, quiescing and IPv6 with real TCP clients through the real agent.</summary>
public sealed class SchedulingTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private AgentProcess StartAgent(string config)
    {
        File.WriteAllText(configFile, config);
        return AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
    }

    private static string Service(string extra, string b1 = "", string b2 = "", string b3 = "", string vip = "10.96.0.10",
        string[]? backends = null) => $$"""
        services:
          - name: web
            address: "{{vip}}"
            port: 80
            {{extra}}
            backends:
              - {address: "{{(backends ?? NetnsTopology.BackendAddresses)[0]}}", port: 8080 {{b1}}}
              - {address: "{{(backends ?? NetnsTopology.BackendAddresses)[1]}}", port: 8080 {{b2}}}
              - {address: "{{(backends ?? NetnsTopology.BackendAddresses)[2]}}", port: 8080 {{b3}}}
        """;

    private string Get(string url = $"http://{NetnsTopology.Vip}/")
    {
        var r = topology.Exec(topology.Client, "curl", "-sS", "-g", "--max-time", "5", "-H", "Connection: close", url);
        Assert.True(r.ExitCode == 0, $"curl {url} exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout.Trim();
    }

    [Fact]
    public void WeightedRoundRobinThreeTwoOneGivesExactlyThoseShares()
    {
        using var agent = StartAgent(Service("scheduler: wrr", ", weight: 3", ", weight: 2", ", weight: 1"));

        var answers = Enumerable.Range(0, 60).Select(_ => Get()).ToList();

        var counts = answers.GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(counts.GetValueOrDefault("b1") == 30 && counts.GetValueOrDefault("b2") == 20 && counts.GetValueOrDefault("b3") == 10,
            $"answers: {string.Join(",", answers)}");
        // docs/ipvs.md §8.3, observed on a real kernel for the same adds: b3, b2, b1, b1, b2, b1, repeating.
        Assert.Equal(["b3", "b2", "b1", "b1", "b2", "b1"], answers.Take(6));
    }

    [Fact]
    public void ClientIpAffinityKeepsTheClientOnOneBackend()
    {
        using var agent = StartAgent(Service("persistence: 10800"));

        var answers = Enumerable.Range(0, 10).Select(_ => Get()).Distinct().ToList();

        Assert.Equal(["b3"], answers);
    }

    [Fact]
    public void WeightZeroKeepsItsOpenConnectionButTakesNoNewOnes()
    {
        using var agent = StartAgent(Service(""));
        // A connection to b3 that sends its request only after the reload.
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", topology.Client, "sh", "-c", $"(sleep 3; printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 2) | busybox nc {NetnsTopology.Vip} 80" })
            psi.ArgumentList.Add(a);
        using var held = Process.Start(psi)!;
        Thread.Sleep(1000);

        File.WriteAllText(configFile, Service("", b3: ", weight: 0"));
        agent.Reload();
        var fresh = Enumerable.Range(0, 6).Select(_ => Get()).ToList();

        Assert.True(held.WaitForExit(TimeSpan.FromSeconds(20)), "the held connection did not finish");
        string heldAnswer = held.StandardOutput.ReadToEnd();
        Assert.EndsWith("b3", heldAnswer.Trim());
        Assert.DoesNotContain("b3", fresh);
        Assert.Equal(3, fresh.Count(a => a == "b1"));
    }

    [Fact]
    public void Ipv6ServiceWorksEndToEnd()
    {
        using var agent = StartAgent(Service("", vip: "fd00:96::10", backends: ["fd00:11::2", "fd00:12::2", "fd00:13::2"]));

        var answers = Enumerable.Range(0, 6).Select(_ => Get("http://[fd00:96::10]/")).ToList();

        Assert.Equal(["b3", "b2", "b1", "b3", "b2", "b1"], answers);
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
