namespace XdpLb.Vm.Tests;

/// <summary>
/// Real TCP, UDP and SCTP clients through the kernel's IPVS driven by `xdplb run --dataplane
/// ipvs`, between network namespaces in the VM; a backend removed and a weight changed by a
/// config reload take effect for new connections.
/// </summary>
public sealed class IpvsTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private static string Config(string backends) => $$"""
        services:
          - {address: 10.96.0.10, port: 80, scheduler: wrr, backends: [{{backends.Replace("PORT", "8080")}}]}
          - {address: 10.96.0.10, port: 9000, protocol: udp, backends: [{{backends.Replace("PORT", "9000")}}]}
          - {address: 10.96.0.10, port: 7000, protocol: sctp, backends: [{{backends.Replace("PORT", "7000")}}]}
        """;

    private const string AllThree = "{address: 10.0.11.2, port: PORT}, {address: 10.0.12.2, port: PORT}, {address: 10.0.13.2, port: PORT}";

    private string Http() => topology.Exec(topology.Client, "curl", "-sS", "--max-time", "10", "http://10.96.0.10/").Stdout.Trim();

    private string Sctp()
    {
        var r = topology.Exec(topology.Client, "socat", "-T", "5", "-u", "SCTP:10.96.0.10:7000", "STDOUT");
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r.Stdout.Trim();
    }

    [Fact]
    public void TcpUdpAndSctpAreBalancedAndChangesTakeEffect()
    {
        for (int b = 1; b <= 3; b++)
            Shell.Check("bash", "-c", $"ip netns exec {topology.Prefix}b{b} socat SCTP-LISTEN:7000,reuseaddr,fork SYSTEM:'echo b{b}' </dev/null >/dev/null 2>&1 &");
        File.WriteAllText(configFile, Config(AllThree));
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", "ipvs"));

        Assert.Equal(["b1", "b2", "b3"], Enumerable.Range(0, 3).Select(_ => Http()).Order());
        Assert.Equal(["b1 10", "b2 10", "b3 10"], Enumerable.Range(0, 3).Select(_ => topology.UdpExchange("10.96.0.10", 9000, 10)).Order());
        Assert.Equal(["b1", "b2", "b3"], Enumerable.Range(0, 3).Select(_ => Sctp()).Order());

        // b3 leaves; b1 gets weight 3 against b2's 1: wrr then gives 3 of every 4 to b1.
        File.WriteAllText(configFile, Config("{address: 10.0.11.2, port: PORT, weight: 3}, {address: 10.0.12.2, port: PORT}"));
        agent.Reload();

        var http = Enumerable.Range(0, 8).Select(_ => Http()).ToList();
        Assert.Equal(6, http.Count(a => a == "b1"));
        Assert.Equal(2, http.Count(a => a == "b2"));
        Assert.DoesNotContain("b3 10", Enumerable.Range(0, 4).Select(_ => topology.UdpExchange("10.96.0.10", 9000, 10)));
        Assert.DoesNotContain("b3", Enumerable.Range(0, 4).Select(_ => Sctp()));
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
