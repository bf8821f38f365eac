namespace XdpLb.Vm.Tests;

/// <summary>
/// forwarding: tun with real traffic (this VM's kernel has the IPIP and IPv6-in-IPv6 drivers
/// the build machine lacks): xdplb's XDP data path, and the kernel's IPVS for comparison,
/// encapsulate to backends that hold the VIP on their tunnel device and answer the client
/// themselves.
/// </summary>
public sealed class TunnelTrafficTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    [Theory]
    [InlineData("xdp-generic")]
    [InlineData("xdp")]
    [InlineData("ipvs")]
    public void EncapsulatedRequestsAreAnsweredByTheBackendsFromTheVip(string dataplane)
    {
        for (int b = 1; b <= 3; b++)
        {
            string ns = $"{topology.Prefix}b{b}";
            // The fallback tunnel devices decapsulate whatever arrives; the VIP makes it local.
            Shell.Check("ip", "-n", ns, "link", "set", "tunl0", "up");
            Shell.Check("ip", "-n", ns, "addr", "add", "10.96.0.20/32", "dev", "tunl0");
            Shell.Check("ip", "-n", ns, "link", "set", "ip6tnl0", "up");
            Shell.Check("ip", "-n", ns, "addr", "add", "fd00:96::20/128", "dev", "ip6tnl0", "nodad");
            Shell.Check("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.tunl0.rp_filter=0");
        }
        if (dataplane == "ipvs") // the answers come back through the node, which holds the VIP with IPVS
            Shell.Check("ip", "netns", "exec", topology.Lb, "sysctl", "-qw", "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.lb1.accept_local=1",
                "net.ipv4.conf.lb2.accept_local=1", "net.ipv4.conf.lb3.accept_local=1");
        File.WriteAllText(configFile, """
            services:
              - {address: 10.96.0.20, port: 8080, forwarding: tun, backends: [{address: 10.0.11.2}, {address: 10.0.12.2}, {address: 10.0.13.2}]}
              - {address: "fd00:96::20", port: 8080, forwarding: tun, backends: [{address: "fd00:11::2"}, {address: "fd00:12::2"}, {address: "fd00:13::2"}]}
            """);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", dataplane));

        foreach (var url in new[] { "http://10.96.0.20:8080/", "http://[fd00:96::20]:8080/" })
        {
            var answers = Enumerable.Range(0, 3).Select(_ =>
            {
                var r = topology.Exec(topology.Client, "curl", "-sS", "-g", "--max-time", "10", url);
                Assert.True(r.ExitCode == 0, $"{url}: {r.Stderr}\n{agent.Log}");
                return r.Stdout.Trim();
            }).ToList();
            Assert.Equal(["b1", "b2", "b3"], answers.Order());
        }
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
