using Grpc.Core;
using XdpLb.Api.V1;

namespace XdpLb.Vm.Tests;

/// <summary>
/// The Controller API on the IPVS dataplane: a declared service becomes a virtual server
/// the kernel balances, and a refused write leaves the kernel's table as it was.
/// </summary>
public sealed class IpvsControllerApiTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private string Http(string vip) => topology.Exec(topology.Client, "curl", "-sS", "--max-time", "10", $"http://{vip}/").Stdout.Trim();

    private string VirtualServers() => topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout;

    [Fact]
    public async Task ADeclaredServiceIsAVirtualServerAndARefusedWriteChangesNothing()
    {
        File.WriteAllText(configFile, "services: []\n");
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", "ipvs"));
        using var channel = XdpLb.Api.UnixSocketChannel.Open(topology.Home.ApiSocket);
        var api = new Controller.ControllerClient(channel);
        var spec = new ServiceSpec { Address = "10.96.0.40", Port = 80, Protocol = "tcp", Scheduler = "rr" };
        spec.Backends.AddRange(NetnsTopology.BackendAddresses.Select(a => new BackendSpec { Address = a, Port = 8080 }));

        var applied = await api.ApplyServiceAsync(new ApplyServiceRequest { Controller = "fleet", Service = spec }, deadline: DateTime.UtcNow.AddSeconds(60));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!VirtualServers().Contains("TCP  10.96.0.40:80 rr"))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no virtual server 10.96.0.40:80:\n{VirtualServers()}\n{agent.Log}");
            Thread.Sleep(200);
        }
        Assert.Equal(["b1", "b2", "b3"], Enumerable.Range(0, 3).Select(_ => Http("10.96.0.40")).Order());
        string before = Block(VirtualServers(), "TCP  10.96.0.40:80");

        var stale = spec.Clone();
        stale.Backends.RemoveAt(0);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await api.ApplyServiceAsync(
            new ApplyServiceRequest { Controller = "fleet", Service = stale, ExpectedGeneration = applied.Generation + 5 }));

        // An accepted write after the refused one: once it shows, the agent has synced past it.
        var other = spec.Clone();
        other.Address = "10.96.0.41";
        await api.ApplyServiceAsync(new ApplyServiceRequest { Controller = "fleet", Service = other });
        while (!VirtualServers().Contains("TCP  10.96.0.41:80 rr"))
        {
            Assert.True(DateTime.UtcNow < deadline.AddSeconds(30), $"no virtual server 10.96.0.41:80:\n{VirtualServers()}\n{agent.Log}");
            Thread.Sleep(200);
        }
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Equal(before, Block(VirtualServers(), "TCP  10.96.0.40:80"));
        Assert.Equal(0, agent.Stop());
    }

    /// <summary>A virtual server's line and its real servers' lines in `ipvsadm -Ln`.</summary>
    private static string Block(string table, string header) =>
        string.Join('\n', table.Split('\n').SkipWhile(l => !l.StartsWith(header, StringComparison.Ordinal))
            .TakeWhile((l, i) => i == 0 || l.StartsWith("  ->", StringComparison.Ordinal)));

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
