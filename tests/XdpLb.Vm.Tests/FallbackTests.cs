namespace XdpLb.Vm.Tests;

/// <summary>
/// --dataplane auto on a node where BPF is not allowed (capabilities dropped, CAP_NET_ADMIN
/// kept, as a locked-down DaemonSet would run it) chooses the kernel's IPVS and serves, and
/// says why; a UDP flow whose backend is removed is not black-holed by a stale conntrack entry.
/// </summary>
public sealed class FallbackTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    [Fact]
    public void WithoutBpfCapabilitiesAutoChoosesIpvsAndServes()
    {
        File.WriteAllText(configFile, "services: [{address: 10.96.0.10, port: 80, backends: [{address: 10.0.11.2, port: 8080}, {address: 10.0.12.2, port: 8080}]}]\n");

        using var agent = AgentProcess.StartWrapped(topology.Lb, ["capsh", "--drop=cap_bpf,cap_perfmon,cap_sys_admin", "--", "-c"],
            topology.AgentArgs(configFile, "--dataplane", "auto"));

        Assert.Contains("xdp dataplane unavailable, trying ipvs", agent.Log);
        Assert.Contains("msg=ready dataplane=ipvs", agent.Log);
        Assert.Contains("TCP  10.96.0.10:80 rr", topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout);
        var answers = Enumerable.Range(0, 2).Select(_ => topology.Exec(topology.Client, "curl", "-sS", "--max-time", "10", "http://10.96.0.10/").Stdout.Trim());
        Assert.Equal(["b1", "b2"], answers.Order());
    }

    [Fact]
    public async Task AUdpFlowWhoseBackendIsRemovedMovesToAnother()
    {
        File.WriteAllText(configFile, "services: [{address: 10.96.0.10, port: 9000, protocol: udp, backends: [{address: 10.0.11.2}]}]\n");
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", "ipvs"));
        // One socket, one datagram every 200 ms for 6 s: the same flow throughout, as a DNS client's.
        var ping = Task.Run(() => topology.Exec(topology.Client, NetnsTopology.UdpEcho, "ping", "10.96.0.10", "9000", "30", "200"));
        Thread.Sleep(2000);

        File.WriteAllText(configFile, "services: [{address: 10.96.0.10, port: 9000, protocol: udp, backends: [{address: 10.0.12.2}]}]\n");
        agent.Reload();
        var result = await ping;

        // Answered first by b1, then (its entry gone with it) by b2.
        Assert.Contains("b1", result.Stdout);
        Assert.Contains("b2", result.Stdout);
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
