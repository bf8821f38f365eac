namespace XdpLb.Integration.Tests;

/// <summary>UDP through the real agent: balancing, and datagrams larger than the MTU arriving whole.</summary>
public sealed class UdpTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private AgentProcess StartAgent()
    {
        File.WriteAllText(configFile, """
            services:
              - {name: echo, address: 10.96.0.10, port: 9000, protocol: udp, backends: [{address: 10.0.11.2}, {address: 10.0.12.2}, {address: 10.0.13.2}]}
              - {name: echo6, address: "fd00:96::10", port: 9000, protocol: udp, backends: [{address: "fd00:11::2"}, {address: "fd00:12::2"}, {address: "fd00:13::2"}]}
            """);
        return AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
    }

    [Fact]
    public void UdpFlowsAreBalancedAndAnsweredFromTheVip()
    {
        using var agent = StartAgent();

        // Each exchange comes from a new source port: a new flow, scheduled by rr.
        var answers = Enumerable.Range(0, 6).Select(_ => topology.UdpExchange("10.96.0.10", 9000, 10)).ToList();

        Assert.Equal(["b3 10", "b2 10", "b1 10", "b3 10", "b2 10", "b1 10"], answers);
    }

    [Theory]
    [InlineData("10.96.0.10")]
    [InlineData("fd00:96::10")]
    public void AFragmentedDatagramArrivesWhole(string vip)
    {
        using var agent = StartAgent();

        var answer = topology.UdpExchange(vip, 9000, 3000);

        Assert.Equal("b3 3000", answer);
        Assert.Contains("nat_fragment=", agent.Log + StopAndLog(agent));
    }

    private static string StopAndLog(AgentProcess agent)
    {
        agent.Stop();
        return agent.Log;
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
