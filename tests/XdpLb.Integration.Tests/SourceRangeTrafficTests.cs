using System.Text.Json;

namespace XdpLb.Integration.Tests;

/// <summary>sourceRanges with real clients: one client address inside the ranges, one outside, each family.</summary>
public sealed class SourceRangeTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    [Theory]
    [InlineData("10.96.0.10", "10.0.1.2", "10.0.1.100")]
    [InlineData("fd00:96::10", "fd00:1::2", "fd00:1::100")]
    public void OnlyClientsInsideTheRangesAreServed(string vip, string allowed, string outside)
    {
        bool v6 = vip.Contains(':');
        Shell.Check("ip", "-n", topology.Client, "addr", "add", outside + (v6 ? "/64" : "/24"), "dev", "eth0", "nodad");
        string backend = v6 ? "fd00:11::2" : "10.0.11.2";
        File.WriteAllText(configFile, $$"""
            services:
              - {address: "{{vip}}", port: 80, sourceRanges: ["{{allowed}}/{{(v6 ? 128 : 32)}}"], backends: [{address: "{{backend}}", port: 8080}]}
            """);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        string url = v6 ? $"http://[{vip}]/" : $"http://{vip}/";

        var inside = topology.Exec(topology.Client, "curl", "-sS", "-g", "--max-time", "5", "--interface", allowed, url);
        var refused = topology.Exec(topology.Client, "curl", "-sS", "-g", "--max-time", "3", "--interface", outside, url);

        Assert.Equal("b1", inside.Stdout.Trim());
        Assert.NotEqual(0, refused.ExitCode);                      // dropped: no answer at all
        var counters = JsonDocument.Parse(Shell.Run(Repo.Agent, ["stats", "--json", "--api-socket", topology.Home.ApiSocket], TimeSpan.FromSeconds(30)).Stdout)
            .RootElement.GetProperty("counters");
        Assert.True(ulong.Parse(counters.GetProperty("drop_source_range").GetString()!) >= 1, counters.ToString());
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
