using System.Text.Json;

namespace XdpLb.Integration.Tests;

/// <summary>Direct routing with real TCP: backends hold the VIP on lo and answer the client themselves.</summary>
public sealed class DirectRoutingTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    [Fact]
    public void RequestsReachBackendsThatHoldTheVip()
    {
        // As for IPVS's -g: each backend has the VIP locally (here on lo) and the service port.
        for (int b = 1; b <= 3; b++)
            Shell.Check("ip", "-n", $"{topology.Prefix}b{b}", "addr", "add", $"{NetnsTopology.Vip}/32", "dev", "lo");
        File.WriteAllText(configFile, """
            services:
              - {name: web, address: 10.96.0.10, port: 8080, forwarding: dr, backends: [{address: 10.0.11.2}, {address: 10.0.12.2}, {address: 10.0.13.2}]}
            """);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        var answers = Enumerable.Range(0, 6).Select(_ =>
            topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10:8080/").Stdout.Trim()).ToList();

        Assert.Equal(["b3", "b2", "b1", "b3", "b2", "b1"], answers);
        var stats = JsonDocument.Parse(Shell.Run(Repo.Agent, ["stats", "--json", "--api-socket", topology.Home.ApiSocket], TimeSpan.FromSeconds(30)).Stdout).RootElement;
        Assert.True(ulong.Parse(stats.GetProperty("counters").GetProperty("fwd_direct").GetString()!) >= 6);
        Assert.Equal("0", stats.GetProperty("counters").GetProperty("nat_request").GetString());
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
