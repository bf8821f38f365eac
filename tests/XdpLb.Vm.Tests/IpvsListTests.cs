namespace XdpLb.Vm.Tests;

/// <summary>`xdplb list` on the IPVS dataplane prints what `ipvsadm -Ln` prints, byte for byte.</summary>
public sealed class IpvsListTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    // Every scheduler, the sh/mh flags, persistence, each forwarding mode, both families, the three protocols.
    private const string Config = """
        services:
          - {address: 10.96.0.1, port: 80, scheduler: rr, backends: [{address: 10.0.11.2, port: 8080}, {address: 10.0.12.2, port: 8080, weight: 0}]}
          - {address: 10.96.0.2, port: 80, scheduler: wrr, forwarding: masq, backends: [{address: 10.0.11.2, port: 8080, weight: 3}, {address: 10.0.12.2, port: 8080, weight: 2}]}
          - {address: 10.96.0.3, port: 80, scheduler: lc, forwarding: dr, backends: [{address: 10.0.11.2}, {address: 10.0.13.2}]}
          - {address: 10.96.0.4, port: 80, scheduler: wlc, forwarding: tun, backends: [{address: 10.0.12.2}]}
          - {address: 10.96.0.5, port: 53, protocol: udp, scheduler: sh, flags: [sh-port, sh-fallback], persistence: 3h, backends: [{address: 10.0.11.2}]}
          - {address: 10.96.0.6, port: 53, protocol: udp, scheduler: dh, backends: [{address: 10.0.13.2}]}
          - {address: 10.96.0.7, port: 3868, protocol: sctp, scheduler: sed, backends: [{address: 10.0.11.2}]}
          - {address: 10.96.0.8, port: 80, scheduler: nq, backends: [{address: 10.0.12.2, port: 8080}]}
          - {address: "fd00:96::9", port: 443, scheduler: mh, flags: [mh-port, mh-fallback], backends: [{address: "fd00:11::2", port: 8443}, {address: "fd00:12::2", port: 8443}]}
        """;

    [Fact]
    public void ListStatsAndRateAreIpvsadmsOwnText()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", "ipvs"));

        foreach (var flags in new[] { new[] { "-n" }, ["-n", "--stats"], ["-n", "--rate"] })
        {
            string ipvsadm = topology.Exec(topology.Lb, ["ipvsadm", "-L", .. flags]).Stdout;
            string ours = topology.Exec(topology.Lb, [Repo.Agent, "list", .. flags, "--api-socket", topology.Home.ApiSocket]).Stdout;
            Assert.Equal(ipvsadm, ours);
        }
        Assert.Contains("UDP  10.96.0.5:53 sh (sh-fallback,sh-port) persistent 10800", topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout);
        Assert.Contains("\"dataplane\": \"ipvs\"", topology.Exec(topology.Lb, Repo.Agent, "list", "--json", "--api-socket", topology.Home.ApiSocket).Stdout);
        Assert.EndsWith("dataplane: ipvs\n", topology.Exec(topology.Lb, Repo.Agent, "stats", "--api-socket", topology.Home.ApiSocket).Stdout);
        Assert.Contains("  -> 10.0.13.2:80                 Route   1", topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout);
    }

    [Fact]
    public void OnlyTheServersXdplbOwnsAreTouched()
    {
        // Another tool's virtual server, there before the agent and after it.
        topology.Exec(topology.Lb, "ipvsadm", "-A", "-t", "10.96.9.9:80", "-s", "rr");
        File.WriteAllText(configFile, "services: [{address: 10.96.0.1, port: 80, backends: [{address: 10.0.11.2, port: 8080}]}]\n");
        using (var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", "ipvs", "--detach-on-exit")))
        {
            Assert.Contains("TCP  10.96.0.1:80 rr", topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout);
            Assert.DoesNotContain("10.96.9.9", topology.Exec(topology.Lb, [Repo.Agent, "list", "-n", "--api-socket", topology.Home.ApiSocket]).Stdout);
            Assert.Equal(0, agent.Stop());
        }

        string after = topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout;
        Assert.Contains("TCP  10.96.9.9:80 rr", after);
        Assert.DoesNotContain("10.96.0.1", after);                                  // --detach-on-exit took ours away
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
