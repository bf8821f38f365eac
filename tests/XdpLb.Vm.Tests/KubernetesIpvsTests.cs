using System.Diagnostics;
using static XdpLb.Kubernetes.Tests.Translation.Objects;
using static XdpLb.Vm.Tests.KubernetesIpvsServices;

namespace XdpLb.Vm.Tests;

/// <summary>
/// `xdplb run --kubernetes --dataplane ipvs` replacing kube-proxy on a node, with the kernel's
/// IPVS in the VM: the virtual servers are kube-proxy's IPVS proxier's (docs/kube-proxy.md §2), real
/// TCP and UDP traffic reaches the pods through them, EndpointSlice updates are followed,
/// removed TCP endpoints drain at weight 0 (docs/kube-proxy.md §4), removed UDP endpoints go at once with
/// their conntrack entries, and a restart of the agent flushes nothing.
/// </summary>
public sealed class KubernetesIpvsTests(KubernetesIpvsNode node) : IClassFixture<KubernetesIpvsNode>
{
    private static readonly string[] Unchanged = [Web, NodePortService, Dns, Sctp, Sticky];

    // The services no test changes, with their NodePort servers on the node's addresses.
    private static bool IsUnchanged(IpvsTable.VirtualServer s) => Unchanged.Contains(Host(s.Key)) || s.Key.EndsWith($":{NodePort}", StringComparison.Ordinal);

    // "TCP 10.96.0.10:80" -> "10.96.0.10"
    private static string Host(string key) => key.Split(' ')[1][..key.Split(' ')[1].LastIndexOf(':')];

    [Fact]
    public void TheVirtualServersAreThoseOfKubeProxysIpvsProxier()
    {
        var table = node.Ipvs();
        // Per service port a ClusterIP server, and with a nodePort one on each of the node's
        // addresses; rr, real servers in Masq at weight 1; ClientIP affinity is persistence
        // for kube-proxy's default 10800 s; SCTP is served (IPVS has it).
        List<IEnumerable<string>> servers =
        [
            IpvsTable.Expected($"TCP {Web}:80", "rr", $"{B1}:8080", $"{B2}:8080", $"{B3}:8080"),
            IpvsTable.Expected($"TCP {NodePortService}:80", "rr", $"{B1}:8080", $"{B2}:8080"),
            .. KubernetesIpvsNode.NodeAddresses.Select(a => IpvsTable.Expected($"TCP {a}:{NodePort}", "rr", $"{B1}:8080", $"{B2}:8080")),
            IpvsTable.Expected($"UDP {Dns}:53", "rr", $"{B1}:9000", $"{B2}:9000"),
            IpvsTable.Expected($"TCP {Dns}:53", "rr", $"{B1}:8080", $"{B2}:8080"),
            IpvsTable.Expected($"SCTP {Sctp}:7000", "rr", $"{B1}:7000", $"{B2}:7000"),
            IpvsTable.Expected($"TCP {Sticky}:80", "rr persistent 10800", $"{B1}:8080", $"{B2}:8080", $"{B3}:8080"),
        ];
        Assert.Equal(servers.SelectMany(lines => lines).Order(StringComparer.Ordinal), table.Describe(IsUnchanged));

        // ClusterIPs are bound to the dummy interface (kube-ipvs0's role); the node's own addresses are not.
        var bound = node.Topology.Exec(node.Topology.Lb, "ip", "-4", "-o", "addr", "show", "dev", "xdplb-ipvs0").Stdout;
        foreach (var vip in Unchanged.Concat([Churn, Drain, DnsChurn]))
            Assert.Contains($" {vip}/32 ", bound);
        foreach (var address in KubernetesIpvsNode.NodeAddresses)
            Assert.DoesNotContain($" {address}/", bound);
    }

    [Fact]
    public void TcpAndUdpTrafficReachesThePodsThroughIpvs()
    {
        var sections = node.Client($"""
            set -e
            for i in 1 2 3 4 5 6; do curl -sS --max-time 5 http://{Web}/; done
            echo --
            for i in 1 2 3 4; do {NetnsTopology.UdpEcho} send {Dns} 53 10; done
            echo --
            curl -sS --max-time 5 http://{Dns}:53/
            echo --
            for a in {string.Join(' ', KubernetesIpvsNode.NodeAddresses)}; do curl -sS --max-time 5 http://$a:{NodePort}/cgi-bin/whoami; done
            echo --
            for i in 1 2 3 4; do curl -sS --max-time 5 http://{Sticky}/; done
            """).Split("--\n").Select(s => s.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToArray();

        // rr: six new connections, two to each pod; UDP: each datagram from a new socket is a new flow.
        Assert.Equal(["b1", "b1", "b2", "b2", "b3", "b3"], sections[0].Order());
        Assert.Equal(["b1 10", "b1 10", "b2 10", "b2 10"], sections[1].Order());
        // The named port "dns-tcp" of the same service reaches the pods' 8080.
        Assert.Contains(Assert.Single(sections[2]), new[] { "b1", "b2" });
        // NodePort on every node address, masqueraded: the pod sees the node's address on its link.
        // busybox httpd listens dual-stack: IPv4 clients show as [::ffff:a.b.c.d].
        Assert.Equal(4, sections[3].Length);
        Assert.All(sections[3], who => Assert.Matches(@"^\[::ffff:10\.0\.1[12]\.1\]$", who));
        // ClientIP affinity: one pod for this client, held by a persistence template (client port 0).
        string sticky = Assert.Single(sections[4].Distinct());
        string pod = $"10.0.1{sticky[1]}.2:8080";
        var templates = node.Topology.Exec(node.Topology.Lb, "ipvsadm", "-Lnc").Stdout;
        Assert.Contains(templates.Split('\n'), l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, _, _, "10.0.1.2:0", $"{Sticky}:80", var d] && d == pod);
    }

    [Fact]
    public void AnEndpointSliceUpdateIsFollowedWithin10Seconds()
    {
        string key = $"TCP {Churn}:80";
        Assert.Equal(["b1", "b2", "b3"], Curl(Churn, 3).Order());

        node.Services.ChurnSlice.Endpoints.RemoveAt(2);
        node.Api.Apply(node.Services.ChurnSlice);
        // b3 just served a connection, which IPVS still counts (InActConn, TIME_WAIT): kube-proxy
        // keeps such a real server at weight 0 until the count is 0, and so does the agent.
        var table = node.WaitForIpvs(t => t.Dest(key, $"{B3}:8080") is null or { Weight: 0 }, "b3 taken out of rotation", TimeSpan.FromSeconds(10));
        Assert.Equal([$"{B1}:8080", $"{B2}:8080"], table.Find(key)!.Dests.Where(d => d.Weight == 1).Select(d => d.Address).Order());
        Assert.Equal(["b1", "b1", "b2", "b2"], Curl(Churn, 4).Order());

        // The endpoint comes back: weight 1 again, and b3 gets its turn.
        node.Services.ChurnSlice.Endpoints.Add(Endpoint(B3));
        node.Api.Apply(node.Services.ChurnSlice);
        node.WaitForIpvs(t => t.Dest(key, $"{B3}:8080") is { Weight: 1 }, "b3 back at weight 1", TimeSpan.FromSeconds(10));
        Assert.Equal(["b1", "b2", "b3"], Curl(Churn, 3).Order());
    }

    [Fact]
    public void ARemovedPodsOpenConnectionDrainsAtWeight0AndTheRealServerGoesWhenItEnds()
    {
        string key = $"TCP {Drain}:80";
        // A download left unread holds its connection open (no other connection to this
        // service came before: a closed one would linger in TIME_WAIT and hold the server too).
        var holder = Process.Start("ip", ["netns", "exec", node.Topology.Client, "bash", "-c",
            $"exec 3<>/dev/tcp/{Drain}/80; printf 'GET /1m.bin HTTP/1.0\\r\\n\\r\\n' >&3; exec sleep 300"]);
        string held, other;
        try
        {
            var table = node.WaitForIpvs(t => t.Find(key)?.Dests.Any(d => d.Active == 1) == true, "the download holding a connection", TimeSpan.FromSeconds(20));
            held = table.Find(key)!.Dests.Single(d => d.Active == 1).Address;
            other = table.Find(key)!.Dests.Single(d => d.Address != held).Address;
            node.Services.DrainSlice.Endpoints.Remove(node.Services.DrainSlice.Endpoints.Single(e => $"{e.Addresses[0]}:8080" == held));
            node.Api.Apply(node.Services.DrainSlice);

            table = node.WaitForIpvs(t => t.Dest(key, held) is { Weight: 0 }, $"{held} at weight 0", TimeSpan.FromSeconds(10));
            Assert.Equal(1, table.Dest(key, held)!.Active);
            Assert.Equal(1, table.Dest(key, other)!.Weight);
            string otherName = $"b{other[6]}";
            Assert.Equal([otherName, otherName, otherName, otherName], Curl(Drain, 4));
            // Past a drain check (every 5 s) the live connection still keeps it.
            Thread.Sleep(TimeSpan.FromSeconds(6));
            Assert.Equal(new IpvsTable.RealServer(held, "Masq", 0, 1, 0), node.Ipvs().Dest(key, held));
        }
        finally
        {
            // Killed with unread data in its socket, the client resets the connection.
            holder.Kill(entireProcessTree: true);
            holder.WaitForExit();
        }
        // After the reset IPVS keeps the connection in CLOSE for 10 s, counted in InActConn,
        // and the agent looks every 5 s: ~15 s, and TCG makes everything slower; 45 s is ample.
        var after = node.WaitForIpvs(t => t.Dest(key, held) is null, $"{held} removed once its connection ended", TimeSpan.FromSeconds(45));
        Assert.Equal([other], after.Find(key)!.Dests.Select(d => d.Address));
    }

    [Fact]
    public void ARemovedUdpEndpointGoesAtOnceWithItsConntrackEntries()
    {
        string key = $"UDP {DnsChurn}:53";
        // One client port throughout: the same flow, as a resolver's.
        string first = Ask(DnsChurn, 40001);
        Assert.Matches("^b[12] 2$", first);
        string answered = first[1] == '1' ? B1 : B2, other = answered == B1 ? B2 : B1;
        Assert.Contains(node.UdpConntrack(DnsChurn), l => l.Contains("sport=40001") && l.Contains($"src={answered} "));

        node.Services.DnsChurnSlice.Endpoints.Remove(node.Services.DnsChurnSlice.Endpoints.Single(e => e.Addresses[0] == answered));
        node.Api.Apply(node.Services.DnsChurnSlice);
        // Its flow is live in IPVS (InActConn) for minutes: a drain would show it at weight 0.
        var table = node.WaitForIpvs(t => t.Find(key)?.Dests.Count == 1, $"{answered} removed", TimeSpan.FromSeconds(10));
        Assert.Equal([$"{other}:9000"], table.Find(key)!.Dests.Select(d => d.Address));
        WaitFor(() => !node.UdpConntrack(DnsChurn).Any(l => l.Contains($"src={answered} ")), $"the conntrack entries to {answered} deleted");

        Assert.Equal($"b{other[6]} 2", Ask(DnsChurn, 40001));
    }

    [Fact]
    public void AUdpServiceThatGetsItsFirstEndpointIsNotStuckOnAnEntryFromBefore()
    {
        const string vip = "10.96.0.54";
        // IPVS drops a datagram to a server without real servers before conntrack confirms
        // it, so entries like this come from datagrams that went elsewhere before the
        // ClusterIP was served here: a route to b3 stands in for a node's default route.
        node.Topology.Exec(node.Topology.Lb, "ip", "route", "add", $"{vip}/32", "via", B3);
        Assert.Equal("", Ask(vip, 40002));
        string stale = Assert.Single(node.UdpConntrack(vip));
        Assert.Contains($"src={vip} ", stale.Split("dport=53", 2)[1]); // replies expected from the VIP itself

        node.Api.Apply(Service("dns-empty", vip, DnsPort("dns", "UDP")));
        node.WaitForIpvs(t => t.Find($"UDP {vip}:53") is { Dests.Count: 0 }, "the service served without endpoints", TimeSpan.FromSeconds(10));
        // Unanswered now, the client's datagrams keep the entry alive.
        Assert.Equal("", Ask(vip, 40002));
        Assert.Single(node.UdpConntrack(vip));

        node.Api.Apply(Slice("dns-empty", "IPv4", [("dns", 9000, "UDP")], Endpoint(B3)));
        node.WaitForIpvs(t => t.Find($"UDP {vip}:53")?.Dests.Count == 1, "the first endpoint added", TimeSpan.FromSeconds(10));
        Assert.Equal("b3 2", Ask(vip, 40002));
        Assert.Contains($"src={B3} ", Assert.Single(node.UdpConntrack(vip)));
    }

    [Fact]
    public void ARestartOfTheAgentFlushesNothing()
    {
        string key = $"TCP {Web}:80";
        string go = Path.Combine(Path.GetTempPath(), $"xdplb-go-{Guid.NewGuid():N}");
        // A download that waits, unread, until told to read everything.
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true };
        foreach (var a in new[] { "netns", "exec", node.Topology.Client, "bash", "-c",
            $"exec 3<>/dev/tcp/{Web}/80; printf 'GET /1m.bin HTTP/1.0\\r\\n\\r\\n' >&3; while [ ! -e {go} ]; do sleep 0.2; done; cat <&3 | wc -c" })
            psi.ArgumentList.Add(a);
        using var holder = Process.Start(psi)!;
        try
        {
            var before = node.WaitForIpvs(t => t.Find(key)?.Dests.Any(d => d.Active == 1) == true, "the download holding a connection", TimeSpan.FromSeconds(20));
            string held = before.Find(key)!.Dests.Single(d => d.Active == 1).Address;

            Assert.Equal(0, node.StopAgent());
            var stopped = node.Ipvs();
            Assert.Equal(before.Describe(IsUnchanged), stopped.Describe(IsUnchanged));
            Assert.Equal(1, stopped.Dest(key, held)!.Active);

            node.StartAgentAgain();
            var restarted = node.Ipvs();
            Assert.Equal(before.Describe(IsUnchanged), restarted.Describe(IsUnchanged));
            Assert.Equal(1, restarted.Dest(key, held)!.Active);

            File.WriteAllText(go, "");
            Assert.True(holder.WaitForExit(TimeSpan.FromSeconds(60)), "the download did not finish");
            // The whole megabyte and the response's header came through the connection opened before.
            long bytes = long.Parse(holder.StandardOutput.ReadToEnd().Trim());
            Assert.InRange(bytes, 1048576 + 20, 1048576 + 1000);
        }
        finally
        {
            if (!holder.HasExited)
                holder.Kill(entireProcessTree: true);
            File.Delete(go);
        }
    }

    private string[] Curl(string vip, int count) =>
        node.Client($"set -e; for i in $(seq {count}); do curl -sS --max-time 5 http://{vip}/; done").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>One datagram "q\n" from this client port to port 53; the answer ("bN 2"), or "" (silence or an ICMP error).</summary>
    private string Ask(string vip, int sourcePort) =>
        node.Client($"echo q | socat -t 2 -T 2 - UDP4:{vip}:53,sourceport={sourcePort},reuseaddr 2>/dev/null || true").Trim();

    private void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"not within 10 s: {what}\n{node.Agent.Log}");
            Thread.Sleep(200);
        }
    }
}
