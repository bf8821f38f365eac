namespace XdpLb.Integration.Tests;

/// <summary>
/// examples/XdpLb.ExampleController against the real agent: the services of its file are
/// served and balanced, one dropped from the file is deleted, another owner's key is left
/// alone; running, it prints the agent's changes and counters and re-reads its file on SIGHUP.
/// </summary>
public sealed class ExampleControllerTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();
    private readonly string servicesFile = Path.GetTempFileName();

    private const string Config = "services:\n  - {address: 10.96.0.11, port: 80, backends: [{address: 10.0.12.2, port: 8080}]}\n";

    private const string Web = """
        {"name": "web", "address": "10.96.0.10", "port": 80, "scheduler": "rr", "backends": [
          {"address": "10.0.11.2", "port": 8080}, {"address": "10.0.12.2", "port": 8080}, {"address": "10.0.13.2", "port": 8080}]}
        """;
    private const string Canary = """{"name": "canary", "address": "10.96.0.12", "port": 80, "backends": [{"address": "10.0.13.2", "port": 8080}]}""";
    private const string ConfigsKey = """{"address": "10.96.0.11", "port": 80, "backends": [{"address": "10.0.11.2", "port": 8080}]}""";

    private string Socket => topology.Home.ApiSocket;

    [Fact]
    public void OnceAppliesTheFileAndASecondRunDeletesWhatTheFileDropped()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        var first = RunOnce(Web, Canary);
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.Equal(["reconcile: applied 10.96.0.10:80/tcp generation 1 (3 backends)", "reconcile: applied 10.96.0.12:80/tcp generation 1 (1 backends)"],
            Lines(first.Stdout));
        AgentList.WaitFor(Socket, l => l.Contains("TCP  10.96.0.10:80 rr") && l.Contains("TCP  10.96.0.12:80 rr"), agent);
        var answers = Enumerable.Range(0, 6).Select(_ => topology.HttpGet(NetnsTopology.Vip)).ToList();
        Assert.Equal(["b1", "b2", "b3"], answers.Distinct().Order());
        Assert.All(answers.GroupBy(a => a), g => Assert.Equal(2, g.Count()));
        Assert.Equal("b3", topology.HttpGet("10.96.0.12"));

        var second = RunOnce(Web);
        Assert.True(second.ExitCode == 0, second.Stdout + second.Stderr);
        Assert.Equal(["reconcile: unchanged 10.96.0.10:80/tcp generation 1 (3 backends)", "reconcile: deleted 10.96.0.12:80/tcp"], Lines(second.Stdout));
        AgentList.WaitFor(Socket, l => !l.Contains("10.96.0.12:80"), agent);

        // The config file's key: reported, not taken, and the run says it did not get its way.
        var third = RunOnce(Web, ConfigsKey);
        Assert.Equal(1, third.ExitCode);
        Assert.Equal(["reconcile: unchanged 10.96.0.10:80/tcp generation 1 (3 backends)", "reconcile: skipped 10.96.0.11:80/tcp: owned by \"config\""],
            Lines(third.Stdout));
        var list = AgentList.List(Socket);
        Assert.Contains("TCP  10.96.0.10:80 rr", list);
        Assert.Contains("  -> 10.0.12.2:8080", list.Split("TCP  10.96.0.11:80 rr")[1]);
        Assert.Equal(0, agent.Stop());
    }

    [Fact]
    public void RunningItPrintsChangesAndCountersAndRereadsItsFileOnSighup()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        WriteServices(Web, Canary);
        using var example = BackgroundProcess.Start("dotnet",
            Repo.ExampleController, "--socket", Socket, "--controller", "example", "--counters", "--interval-ms", "200", servicesFile);

        // The config file's service comes first, as the agent's current state; then (or in it) the example's own.
        example.WaitFor(l => l.Contains("watch: ADDED example 10.96.0.12:80/tcp generation 1 backends 1"), "watch line for the canary");
        Assert.Contains("watch: ADDED config 10.96.0.11:80/tcp generation 1 backends 1", example.Lines);
        AgentList.WaitFor(Socket, l => l.Contains("TCP  10.96.0.10:80 rr"), agent);
        Assert.Equal(["b1", "b2", "b3"], Enumerable.Range(0, 3).Select(_ => topology.HttpGet(NetnsTopology.Vip)).Order());
        string[] counted = [.. NetnsTopology.BackendAddresses.Select(b => $"counters: 10.96.0.10:80/tcp {b}:8080 conns 1 ")];
        example.WaitFor(l => counted.All(c => l.Any(line => line.StartsWith(c, StringComparison.Ordinal))), "one connection counted per backend");

        WriteServices(Web);
        Tmds.Linux.LibC.kill(example.Pid, Tmds.Linux.LibC.SIGHUP);
        example.WaitFor(l => l.Contains("reconcile: deleted 10.96.0.12:80/tcp"), "the canary's deletion");
        example.WaitFor(l => l.Contains("watch: DELETED example 10.96.0.12:80/tcp generation 1 backends 1"), "the canary's DELETED event");
        AgentList.WaitFor(Socket, l => !l.Contains("10.96.0.12:80"), agent);
        Assert.Equal(0, example.Stop());
        Assert.Equal(0, agent.Stop());
    }

    private ShellResult RunOnce(params string[] services)
    {
        WriteServices(services);
        return Shell.Run("dotnet", [Repo.ExampleController, "--socket", Socket, "--controller", "example", "--once", servicesFile], TimeSpan.FromSeconds(60));
    }

    private void WriteServices(params string[] services) => File.WriteAllText(servicesFile, $"[{string.Join(",\n", services)}]");

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
        File.Delete(servicesFile);
    }
}
