using System.Text.Json;

namespace XdpLb.Integration.Tests;

/// <summary>
/// A client on VLAN 100 (its frames tagged; this kernel has no VLAN devices, so it writes
/// them through a packet socket) reaches untagged backends through the VIP, and the
/// answers come back tagged with its VID, through native and generic XDP.
/// </summary>
public sealed class VlanTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private static string VlanUdp => Path.Combine(Repo.Root, "tests", "netns", "build", "vlan_udp");

    [Theory]
    [InlineData("xdp")]
    [InlineData("xdp-generic")]
    public void TaggedClientsAreBalancedAndAnsweredOnTheirVlan(string dataplane)
    {
        File.WriteAllText(configFile, """
            services:
              - {address: 10.96.0.10, port: 9000, protocol: udp, backends: [{address: 10.0.11.2}, {address: 10.0.12.2}, {address: 10.0.13.2}]}
            """);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", dataplane));
        string lbMac = topology.Exec(topology.Lb, "cat", "/sys/class/net/lbc/address").Stdout.Trim();
        // A frame whose next hop has no neighbour entry yet goes to the stack, tag and all:
        // with no VLAN device to take it (none here) the stack drops it. Resolve them first.
        foreach (var neighbour in NetnsTopology.BackendAddresses.Prepend("10.0.1.2"))
            topology.Exec(topology.Lb, "ping", "-c1", "-W1", neighbour);

        var answers = Enumerable.Range(0, 3).Select(_ =>
        {
            var r = topology.Exec(topology.Client, VlanUdp, "eth0", "100", lbMac, "10.0.1.2", "10.96.0.10", "9000", "64");
            Assert.True(r.ExitCode == 0, $"{r.Stderr}\nagent log:\n{agent.Log}");
            return r.Stdout.Trim();
        }).ToList();

        Assert.Equal(["vid=100 b1 64", "vid=100 b2 64", "vid=100 b3 64"], answers.Order());
        var counters = JsonDocument.Parse(Shell.Run(Repo.Agent, ["stats", "--json", "--api-socket", topology.Home.ApiSocket], TimeSpan.FromSeconds(30)).Stdout)
            .RootElement.GetProperty("counters");
        Assert.Equal("3", counters.GetProperty("nat_reply").GetString());
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
