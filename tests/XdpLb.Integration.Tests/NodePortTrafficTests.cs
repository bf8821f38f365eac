namespace XdpLb.Integration.Tests;

/// <summary>NodePort services answer on the node's own addresses; externalTrafficPolicy local keeps to local backends.</summary>
public sealed class NodePortTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private string Get(string url) => topology.Exec(topology.Client, "curl", "-sS", "-g", "--max-time", "5", url).Stdout.Trim();

    [Fact]
    public void ANodePortAnswersOnTheNodesAddressesForBothFamilies()
    {
        File.WriteAllText(configFile, """
            services:
              - {name: np, port: 30080, nodePort: true, backends: [{address: 10.0.11.2, port: 8080}, {address: 10.0.12.2, port: 8080}, {address: "fd00:11::2", port: 8080}]}
            """);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        // 10.0.1.1 and fd00:1::1 are the lb's addresses on the client side.
        Assert.Equal(["b2", "b1", "b2"], Enumerable.Range(0, 3).Select(_ => Get("http://10.0.1.1:30080/")));
        Assert.Equal("b1", Get("http://[fd00:1::1]:30080/"));
        var list = Shell.Run(Repo.Agent, ["list", "--api-socket", topology.Home.ApiSocket], TimeSpan.FromSeconds(30)).Stdout;
        Assert.Contains("TCP  10.0.1.1:30080 rr", list);
        Assert.Contains("TCP  10.0.13.1:30080 rr", list);
        Assert.Contains("TCP  [fd00:1::1]:30080 rr", list);
    }

    [Fact]
    public void ExternalTrafficPolicyLocalUsesOnlyLocalBackends()
    {
        File.WriteAllText(configFile, """
            services:
              - name: np
                port: 30080
                nodePort: true
                externalTrafficPolicy: local
                backends: [{address: 10.0.11.2, port: 8080}, {address: 10.0.12.2, port: 8080, local: true}, {address: 10.0.13.2, port: 8080}]
              - {name: npu, port: 30090, protocol: udp, nodePort: true, externalTrafficPolicy: local, backends: [{address: 10.0.11.2, port: 9000}, {address: 10.0.12.2, port: 9000, local: true}]}
            """);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));

        Assert.Equal(["b2", "b2", "b2"], Enumerable.Range(0, 3).Select(_ => Get("http://10.0.1.1:30080/")));
        Assert.Equal("b2 64", topology.UdpExchange("10.0.1.1", 30090, 64));
        // The client's own address reaches the backend (no masquerade): its HTTP server and
        // its UDP server's log both saw 10.0.1.2.
        Assert.Equal("[::ffff:10.0.1.2]", Get("http://10.0.1.1:30080/cgi-bin/whoami"));
        Assert.Equal(["10.0.1.2"], File.ReadAllLines(Path.Combine(topology.WwwDir(2), "udp-clients.log")));
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
