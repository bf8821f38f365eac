using System.Text.Json;
using XdpLb.Core.Model;

namespace XdpLb.Vm.Tests;

/// <summary>
/// `xdplb cleanup --kube-proxy` on what kube-proxy's IPVS, iptables and nftables modes leave
/// (set up here as kube-proxy sets them up), and `xdplb cleanup` after an agent on the IPVS
/// dataplane: what each owns goes, nothing else does.
/// </summary>
public sealed class CleanupTests : IDisposable
{
    private readonly IpvsNetns netns = new();
    private readonly string stateDir = Directory.CreateTempSubdirectory("xdplb-cleanup-").FullName;

    // The VM has ip_tables with its nat and filter tables but no ip6_tables: legacy for IPv4
    // only; iptables-nft has every table in both families.
    private static readonly string[] V4Tools = ["iptables-legacy", "iptables-nft"];
    private static readonly string[] V6Tools = ["ip6tables-nft"];

    private ShellResult Exec(params string[] command) =>
        Shell.Run("ip", new[] { "netns", "exec", netns.Name }.Concat(command), TimeSpan.FromSeconds(120));

    private string Check(params string[] command)
    {
        var r = Exec(command);
        Assert.True(r.ExitCode == 0, $"{string.Join(' ', command)} exited {r.ExitCode}: {r.Stderr}");
        return r.Stdout;
    }

    /// <summary>kube-proxy's chains as its IPVS mode makes them, with kubelet's and an operator's beside them.</summary>
    private void AddChains(string iptables, bool v6)
    {
        Check(iptables, "-t", "nat", "-N", "KUBE-SERVICES");
        Check(iptables, "-t", "nat", "-A", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES");
        Check(iptables, "-t", "nat", "-A", "OUTPUT", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES");
        Check(iptables, "-t", "nat", "-N", "KUBE-MARK-MASQ");
        Check(iptables, "-t", "nat", "-A", "KUBE-MARK-MASQ", "-j", "MARK", "--or-mark", "0x4000");
        Check(iptables, "-t", "nat", "-A", "KUBE-SERVICES", "-m", "set", "--match-set", v6 ? "KUBE-6-CLUSTER-IP" : "KUBE-CLUSTER-IP", "dst,dst", "-j", "KUBE-MARK-MASQ");
        Check(iptables, "-t", "nat", "-N", "KUBE-POSTROUTING");
        Check(iptables, "-t", "nat", "-A", "POSTROUTING", "-m", "comment", "--comment", "kubernetes postrouting rules", "-j", "KUBE-POSTROUTING");
        Check(iptables, "-t", "nat", "-A", "KUBE-POSTROUTING", "-m", "mark", "--mark", "0x4000/0x4000", "-j", "MASQUERADE");
        Check(iptables, "-t", "filter", "-N", "KUBE-FORWARD");
        Check(iptables, "-t", "filter", "-A", "FORWARD", "-m", "comment", "--comment", "kubernetes forwarding rules", "-j", "KUBE-FORWARD");
        Check(iptables, "-t", "filter", "-A", "KUBE-FORWARD", "-m", "mark", "--mark", "0x4000/0x4000", "-j", "ACCEPT");
        // kubelet's chain stays, as kube-proxy leaves it; so do an operator's chain and rules.
        Check(iptables, "-t", "filter", "-N", "KUBE-FIREWALL");
        Check(iptables, "-t", "filter", "-A", "INPUT", "-j", "KUBE-FIREWALL");
        Check(iptables, "-t", "nat", "-N", "OPERATOR-DNAT");
        // (Plain address matches: the VM has no xt_tcpudp for --dport.)
        string operatorNet = v6 ? "2001:db8::/32" : "192.0.2.0/24";
        Check(iptables, "-t", "nat", "-A", "PREROUTING", "-s", operatorNet, "-j", "OPERATOR-DNAT");
        Check(iptables, "-t", "filter", "-A", "INPUT", "-s", operatorNet, "-j", "ACCEPT");
    }

    [Fact]
    public void KubeProxysLeftoversGoAndWhatIsNotKubeProxysStays()
    {
        // IPVS mode: ClusterIPs on kube-ipvs0, a virtual server per service port with its endpoints.
        Check("ip", "link", "add", "kube-ipvs0", "type", "dummy");
        Check("ip", "addr", "add", "10.96.0.10/32", "dev", "kube-ipvs0");
        netns.Ipvsadm("-A", "-t", "10.96.0.10:80", "-s", "rr");
        netns.Ipvsadm("-a", "-t", "10.96.0.10:80", "-r", "10.0.1.2:8080", "-m");
        netns.Ipvsadm("-a", "-t", "10.96.0.10:80", "-r", "10.0.1.3:8080", "-m");
        netns.Ipvsadm("-A", "-u", "10.96.0.10:53", "-s", "rr");
        netns.Ipvsadm("-a", "-u", "10.96.0.10:53", "-r", "10.0.1.2:53", "-m");
        netns.Ipvsadm("-A", "-t", "[fd00:96::10]:443", "-s", "rr");
        netns.Ipvsadm("-a", "-t", "[fd00:96::10]:443", "-r", "[fd00:1::2]:8443", "-m");
        // xdplb's own virtual server, listed in its state file, and a firewall-mark service
        // (kube-proxy never makes those): both stay.
        netns.Ipvsadm("-A", "-t", "10.96.0.20:80", "-s", "wrr");
        netns.Ipvsadm("-A", "-f", "7", "-s", "rr");
        WriteOwnedState(new Service { Address = System.Net.IPAddress.Parse("10.96.0.20"), Port = 80, Scheduler = Scheduler.Wrr });

        Check("ipset", "create", "KUBE-CLUSTER-IP", "hash:ip,port");
        Check("ipset", "add", "KUBE-CLUSTER-IP", "10.96.0.10,tcp:80");
        Check("ipset", "create", "KUBE-6-CLUSTER-IP", "hash:ip,port", "family", "inet6");
        Check("ipset", "create", "OPERATOR", "hash:ip");
        foreach (var tool in V4Tools)
            AddChains(tool, v6: false);
        foreach (var tool in V6Tools)
            AddChains(tool, v6: true);
        Check("iptables-nft", "-t", "mangle", "-N", "KUBE-PROXY-CANARY");
        // nftables mode's tables, and an operator's.
        Check("nft", "add", "table", "ip", "kube-proxy");
        Check("nft", "add", "chain", "ip", "kube-proxy", "services");
        Check("nft", "add", "table", "ip6", "kube-proxy");
        Check("nft", "add", "table", "inet", "operator");
        Assert.Contains("KUBE-SERVICES", Check("iptables-legacy-save", "-t", "nat"));

        var r = Exec(Repo.Agent, "cleanup", "--kube-proxy", "--state-dir", stateDir);

        Assert.True(r.ExitCode == 0, $"cleanup exited {r.ExitCode}:\n{r.Stderr}");
        string ipvs = netns.Ipvsadm("-Ln");
        Assert.DoesNotContain("10.96.0.10", ipvs);
        Assert.DoesNotContain("fd00:96::10", ipvs);
        Assert.Contains("TCP  10.96.0.20:80 wrr", ipvs);
        Assert.Contains("FWM  7 rr", ipvs);
        Assert.Contains("msg=kept what=\"IPVS virtual server TCP 10.96.0.20:80\"", r.Stderr);
        Assert.NotEqual(0, Exec("ip", "link", "show", "kube-ipvs0").ExitCode);
        foreach (var (tool, operatorNet) in V4Tools.Select(t => (t, "192.0.2.0/24")).Concat(V6Tools.Select(t => (t, "2001:db8::/32"))))
        {
            string rules = Check(tool + "-save");
            Assert.DoesNotContain("KUBE-SERVICES", rules);
            Assert.DoesNotContain("KUBE-MARK-MASQ", rules);
            Assert.DoesNotContain("KUBE-POSTROUTING", rules);
            Assert.DoesNotContain("KUBE-FORWARD", rules);
            Assert.DoesNotContain("KUBE-PROXY-CANARY", rules);
            Assert.Contains("-A INPUT -j KUBE-FIREWALL", rules);
            Assert.Contains($"-A PREROUTING -s {operatorNet} -j OPERATOR-DNAT", rules);
            Assert.Contains($"-A INPUT -s {operatorNet} -j ACCEPT", rules);
        }
        string sets = Check("ipset", "list", "-n");
        Assert.DoesNotContain("KUBE-", sets);
        Assert.Contains("OPERATOR", sets);
        string tables = Check("nft", "list", "tables");
        Assert.DoesNotContain("kube-proxy", tables);
        Assert.Contains("table inet operator", tables);

        // Nothing left: a second run removes nothing and succeeds.
        var again = Exec(Repo.Agent, "cleanup", "--kube-proxy", "--state-dir", stateDir);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("msg=\"kube-proxy cleanup done\" removed=0", again.Stderr);
    }

    [Fact]
    public void WhatCannotBeRemovedIsNamedAndTheStatusIs1()
    {
        // An operator's rule still uses kube-proxy's set: the set cannot be destroyed.
        Check("ipset", "create", "KUBE-LOOP-BACK", "hash:ip,port,ip");
        Check("ipset", "create", "KUBE-CLUSTER-IP", "hash:ip,port");
        Check("iptables-legacy", "-A", "INPUT", "-m", "set", "--match-set", "KUBE-LOOP-BACK", "src,dst,src", "-j", "ACCEPT");

        var r = Exec(Repo.Agent, "cleanup", "--kube-proxy", "--state-dir", stateDir);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("could not remove ipset KUBE-LOOP-BACK", r.Stderr);
        Assert.DoesNotContain("KUBE-CLUSTER-IP", Check("ipset", "list", "-n")); // the rest went on
    }

    [Fact]
    public void XdplbsOwnCleanupRemovesWhatTheIpvsAgentLeft()
    {
        using var topology = new NetnsTopology();
        string configFile = Path.Combine(topology.Home.Root, "config.yaml");
        File.WriteAllText(configFile, """
            services:
              - {address: 10.96.0.10, port: 80, forwarding: masq, backends: [{address: 10.0.11.2, port: 8080}]}
              - {address: 10.96.0.11, port: 53, protocol: udp, backends: [{address: 10.0.12.2}]}
            """);
        using (var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile, "--dataplane", "ipvs")))
            Assert.Equal(0, agent.Stop());
        topology.Exec(topology.Lb, "ipvsadm", "-A", "-t", "10.96.9.9:80", "-s", "rr"); // another tool's
        string stateFile = Path.Combine(topology.Home.StateDir, "ipvs-dataplane.json");
        Assert.Contains("TCP  10.96.0.10:80 rr", topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout);
        Assert.Equal(0, topology.Exec(topology.Lb, "ip", "link", "show", "xdplb-ipvs0").ExitCode);
        Assert.Contains("table inet xdplb_ipvs", topology.Exec(topology.Lb, "nft", "list", "tables").Stdout);
        Assert.True(File.Exists(stateFile));

        var r = topology.Exec(topology.Lb, [Repo.Agent, "cleanup", .. topology.Home.Flags]);

        Assert.True(r.ExitCode == 0, $"cleanup exited {r.ExitCode}:\n{r.Stderr}");
        string ipvs = topology.Exec(topology.Lb, "ipvsadm", "-Ln").Stdout;
        Assert.DoesNotContain("10.96.0.10", ipvs);
        Assert.DoesNotContain("10.96.0.11", ipvs);
        Assert.Contains("TCP  10.96.9.9:80 rr", ipvs);
        Assert.NotEqual(0, topology.Exec(topology.Lb, "ip", "link", "show", "xdplb-ipvs0").ExitCode);
        Assert.DoesNotContain("xdplb_ipvs", topology.Exec(topology.Lb, "nft", "list", "tables").Stdout);
        Assert.False(File.Exists(stateFile));
    }

    /// <summary>The IPVS dataplane's state file, as an agent that owns these services writes it.</summary>
    private void WriteOwnedState(params Service[] services) =>
        File.WriteAllText(Path.Combine(stateDir, "ipvs-dataplane.json"),
            JsonSerializer.Serialize(new { Version = 1, Services = services.Select(ServiceRecord.Of).ToArray() }));

    public void Dispose()
    {
        netns.Dispose();
        Directory.Delete(stateDir, recursive: true);
    }
}
