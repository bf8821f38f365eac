using System.Diagnostics;
using System.Security.Cryptography;

namespace XdpLb.Integration.Tests;

/// <summary>
/// Restarts keep every flow: maps and links are pinned, so the data path runs on while no
/// agent does, and the next agent adopts them. A TCP stream and a UDP exchange run across
/// kill -9 and a restart and lose nothing.
/// </summary>
public sealed class RestartTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private const string Config = """
        services:
          - {name: web, address: 10.96.0.10, port: 80, backends: [{address: 10.0.11.2, port: 8080}, {address: 10.0.12.2, port: 8080}, {address: 10.0.13.2, port: 8080}]}
          - {name: echo, address: 10.96.0.10, port: 9000, protocol: udp, backends: [{address: 10.0.11.2}, {address: 10.0.12.2}, {address: 10.0.13.2}]}
        """;

    /// <summary>
    /// Runs a 3 MB download (about 6 s at 512 KB/s) and one UDP flow (80 pings 100 ms apart)
    /// across `kill -9` of the agent <paramref name="first"/> started and the start of this
    /// build's agent: the download arrives whole, every ping is answered by one backend.
    /// Returns the second agent, still running.
    /// </summary>
    private AgentProcess KeepsAStreamAndAnExchangeAcrossTheChange(Func<AgentProcess> first)
    {
        var content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        for (int b = 1; b <= 3; b++)
            File.WriteAllBytes(Path.Combine(topology.WwwDir(b), "big.bin"), content);
        File.WriteAllText(configFile, Config);
        string output = Path.Combine(topology.Home.Root, "download.bin");
        var old = first();
        {
            using var download = topology.StartInClient("curl", "-sS", "--max-time", "60", "--limit-rate", "512k", "-o", output, "http://10.96.0.10/big.bin");
            using var pings = topology.StartInClient(NetnsTopology.UdpEcho, "ping", "10.96.0.10", "9000", "80", "100");
            Thread.Sleep(1500);
            Tmds.Linux.LibC.kill(old.Pid, Tmds.Linux.LibC.SIGKILL);
            old.Dispose();
            Thread.Sleep(1500);
            var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
            try
            {
                Assert.True(download.WaitForExit(TimeSpan.FromSeconds(60)), "the download did not finish");
                Assert.True(pings.WaitForExit(TimeSpan.FromSeconds(30)), "the UDP exchange did not finish");
                Assert.True(download.ExitCode == 0, $"curl exited {download.ExitCode} (a reset?): {download.StandardError.ReadToEnd()}");
                Assert.Equal(SHA256.HashData(content), SHA256.HashData(File.ReadAllBytes(output)));
                string pingReport = pings.StandardOutput.ReadToEnd();
                Assert.Contains("answered 80 of 80", pingReport);
                Assert.Single(pingReport.Split('\n'), l => l.StartsWith("from ", StringComparison.Ordinal)); // one backend throughout
                return agent;
            }
            catch
            {
                agent.Dispose();
                throw;
            }
        }
    }

    [Fact]
    public void TcpStreamAndUdpExchangeSurviveKill9AndRestart()
    {
        using var agent = KeepsAStreamAndAnExchangeAcrossTheChange(() => AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile)));

        Assert.Contains("adopted the pinned maps and the state of the previous agent", agent.Log);
        Assert.Contains("xdp link adopted", agent.Log);
        // The new agent continues rr where the old one was: web's first pick was b3, so b2 is next.
        var next = topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10/");
        Assert.Equal("b2", next.Stdout.Trim());
    }

    [Fact]
    public void AnUpgradeFromThePreviousTableLayoutKeepsTheTcpStreamAndUdpExchange()
    {
        using var agent = KeepsAStreamAndAnExchangeAcrossTheChange(
            () => AgentProcess.StartBinary(PreviousAgent.Binary, topology.Lb, [], topology.AgentArgs(configFile)));

        Assert.Matches("msg=\"upgrading the connection table of the previous layout\" connections=[2-9]", agent.Log);
        Assert.Contains("connection table upgraded", agent.Log);
        Assert.False(Directory.Exists(Path.Combine(topology.Home.PinDir, "maps", "previous-layout")), "the old table is unpinned");
        var next = topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10/");
        Assert.Equal("b2", next.Stdout.Trim());
    }

    [Fact]
    public void WithoutItsStateTheNextAgentRewritesTheServicesAndServes()
    {
        File.WriteAllText(configFile, Config);
        using (var first = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile)))
            Assert.Equal(0, first.Stop());
        File.Delete(Path.Combine(topology.Home.StateDir, "xdp-dataplane.json"));

        using var second = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        Assert.Contains("pinned maps adopted without the state that goes with them", second.Log);
        var answers = Enumerable.Range(0, 3).Select(_ => topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10/").Stdout.Trim());
        Assert.Equal(["b1", "b2", "b3"], answers.Order());
    }

    [Fact]
    public void AnIncompatiblePinnedMapIsRefusedWithAClearMessage()
    {
        File.WriteAllText(configFile, Config);
        using (var first = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile)))
            Assert.Equal(0, first.Stop());

        // Other limits change the maps' capacities: the pinned ones cannot be adopted.
        File.WriteAllText(configFile, "limits: {connections: 5000}\n" + Config);
        var r = topology.Exec(topology.Lb, [Repo.Agent, .. topology.AgentArgs(configFile)]);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("cannot be adopted", r.Stderr);
        Assert.Contains(topology.Home.PinDir, r.Stderr);
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
