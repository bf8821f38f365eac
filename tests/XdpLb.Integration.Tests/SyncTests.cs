namespace XdpLb.Integration.Tests;

/// <summary>kube-proxy's sync semantics on the real agent: file changes picked up, drift repaired by the periodic full sync.</summary>
public sealed class SyncTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private static string Config(string sync, int backends) => $$"""
        sync: {{sync}}
        services:
          - name: web
            address: 10.96.0.10
            port: 80
            backends: [{{string.Join(", ", NetnsTopology.BackendAddresses.Take(backends).Select(a => $"{{address: {a}, port: 8080}}"))}}]
        """;

    private string Get() => topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10/").Stdout.Trim();

    private static void WaitFor(AgentProcess agent, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!agent.Log.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the agent did not log \"{text}\" within 20 s:\n{agent.Log}");
            Thread.Sleep(100);
        }
    }

    [Fact]
    public void ANewConfigFileIsPickedUpWithoutASignal()
    {
        File.WriteAllText(configFile, Config("{minSyncPeriod: 100ms}", 1));
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        Assert.Equal("b1", Get());

        File.WriteAllText(configFile, Config("{minSyncPeriod: 100ms}", 3));
        WaitFor(agent, "msg=\"config reloaded\" services=1 backends=3");

        var answers = Enumerable.Range(0, 3).Select(_ => Get()).Order().ToList();
        Assert.Equal(["b1", "b2", "b3"], answers);
    }

    [Fact]
    public void AnInvalidFileIsRefusedAndTheRunningConfigStays()
    {
        File.WriteAllText(configFile, Config("{minSyncPeriod: 100ms}", 2));
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        File.WriteAllText(configFile, Config("{minSyncPeriod: 100ms}", 2).Replace("port: 80\n", "port: 80\n    scheduler: fastest\n"));
        WaitFor(agent, "config reload refused");

        Assert.Contains("\\\"fastest\\\" is not a scheduler", agent.Log);
        Assert.Equal(["b1", "b2"], Enumerable.Range(0, 2).Select(_ => Get()).Order());
    }

    [Fact]
    public void AnEmptiedFileIsRefusedAndTheServicesStay()
    {
        // What an editor or File.WriteAllText leaves for a moment when rewriting in place.
        File.WriteAllText(configFile, Config("{minSyncPeriod: 100ms}", 2));
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        File.WriteAllText(configFile, "");
        WaitFor(agent, "config reload refused");

        Assert.Contains("the config file is empty", agent.Log);
        Assert.Equal(["b1", "b2"], Enumerable.Range(0, 2).Select(_ => Get()).Order());
    }

    [Fact]
    public void AMapEntryChangedBehindTheAgentsBackIsRepaired()
    {
        File.WriteAllText(configFile, Config("{syncPeriod: 2s}", 3));
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        // Slot (service 0, generation 0, index 1): b2. Without it rr's second pick finds nothing.
        var deleted = Shell.Run("bpftool", ["map", "delete", "pinned", Path.Combine(topology.Home.PinDir, "maps", "backend_slots"),
            "key", "hex", "00", "00", "00", "00", "00", "00", "00", "00", "01", "00", "00", "00"], TimeSpan.FromSeconds(10));
        Assert.True(deleted.ExitCode == 0, deleted.Stderr);
        WaitFor(agent, "repaired=1");

        Assert.Equal(["b3", "b2", "b1"], Enumerable.Range(0, 3).Select(_ => Get()));
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
