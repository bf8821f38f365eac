using System.Text.Json;

namespace XdpLb.Integration.Tests;

/// <summary>
/// xdplb.v1.Controller from an independent client: Node's grpc-js with the .proto files
/// loaded at run time (tests/grpc-js-client/apply.js), sharing no code with the agent. What it
/// applies over the unix socket is balanced in the topology; a refused write reaches it as
/// the gRPC status code and changes nothing.
/// </summary>
public sealed class GrpcJsClientTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    // A service of the config file beside the client's: ListServices by owner leaves it out.
    private const string Config = "services:\n  - {address: 10.96.0.11, port: 80, backends: [{address: 10.0.12.2, port: 8080}]}\n";

    private string Socket => topology.Home.ApiSocket;

    [Fact]
    public void AServiceAppliedFromNodeIsBalancedAndRefusalsReachItAsStatusCodes()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        string[] threeBackends = [.. NetnsTopology.BackendAddresses.SelectMany(b => new[] { "--backend", $"{b}:8080" })];

        using (var result = Applied(Apply(["--expected-generation", "0", .. threeBackends])))
        {
            var root = result.RootElement;
            Assert.Equal(("node", "1"), (root.GetProperty("applied").GetProperty("owner").GetString(), root.GetProperty("applied").GetProperty("generation").GetString()));
            Assert.Equal(NetnsTopology.BackendAddresses,
                root.GetProperty("got").GetProperty("spec").GetProperty("backends").EnumerateArray().Select(b => b.GetProperty("address").GetString()));
            Assert.Equal(["node 10.96.0.10:80 1"], root.GetProperty("listed").EnumerateArray()
                .Select(s => $"{s.GetProperty("owner").GetString()} {s.GetProperty("spec").GetProperty("address").GetString()}:{s.GetProperty("spec").GetProperty("port").GetInt32()} {s.GetProperty("generation").GetString()}"));
        }
        AgentList.WaitFor(Socket, l => l.Contains("TCP  10.96.0.10:80 rr"), agent);
        var answers = Enumerable.Range(0, 6).Select(_ => topology.HttpGet(NetnsTopology.Vip)).ToList();
        Assert.Equal(["b1", "b2", "b3"], answers.Distinct().Order());
        Assert.All(answers.GroupBy(a => a), g => Assert.Equal(2, g.Count()));
        string before = AgentList.Servers(Socket);

        // Generation 0 says "must not exist yet"; the second backend's address has three parts.
        var stale = Refusal(Apply("--expected-generation", "0", "--backend", "10.0.11.2:8080"));
        var invalid = Refusal(Apply("--backend", "10.0.11.2:8080", "--backend", "10.0.12:8080"));
        Assert.Equal(("FAILED_PRECONDITION", 9), (stale.Code, stale.Number));
        Assert.Equal(("INVALID_ARGUMENT", 3), (invalid.Code, invalid.Number));
        Assert.Contains("service.backends[1].address: \"10.0.12\" is not an IP address", invalid.Details);

        // Accepted at generation 1, and kept there (same content): neither refusal changed the service.
        using (var again = Applied(Apply(["--expected-generation", "1", .. threeBackends])))
            Assert.Equal("1", again.RootElement.GetProperty("applied").GetProperty("generation").GetString());
        Assert.Equal(before, AgentList.Servers(Socket));
        Assert.Equal(0, agent.Stop());
    }

    private ShellResult Apply(params string[] args) => Shell.Run("node",
        [Repo.GrpcJsApply, "--socket", Socket, "--controller", "node", "--name", "web", "--address", NetnsTopology.Vip, "--port", "80", "--scheduler", "rr", .. args],
        TimeSpan.FromSeconds(60));

    private static JsonDocument Applied(ShellResult r)
    {
        Assert.True(r.ExitCode == 0, $"apply.js exited {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout);
    }

    private static (string Code, int Number, string Details) Refusal(ShellResult r)
    {
        Assert.True(r.ExitCode == 1, $"apply.js exited {r.ExitCode}, not 1: {r.Stdout}{r.Stderr}");
        using var error = JsonDocument.Parse(r.Stderr);
        var e = error.RootElement.GetProperty("error");
        return (e.GetProperty("code").GetString()!, e.GetProperty("number").GetInt32(), e.GetProperty("details").GetString()!);
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
