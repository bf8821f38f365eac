using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace XdpLb.Integration.Tests;

/// <summary>
/// One topology and one agent serving a service per forwarding mode and family, attached
/// natively or generically (the derived classes), shared by the tests of that attach mode.
/// </summary>
public abstract class ForwardingModeTopology : IDisposable
{
    // name -> (VIP, forwarding). dr backends hold the VIP on lo and use the service's ports.
    public static readonly IReadOnlyDictionary<string, (string Vip, string Forwarding)> Services = new Dictionary<string, (string, string)>
    {
        ["nat4"] = ("10.96.0.10", "nat"),
        ["nat6"] = ("fd00:96::10", "nat"),
        ["masq4"] = ("10.96.0.11", "masq"),
        ["masq6"] = ("fd00:96::11", "masq"),
        ["dr4"] = ("10.96.0.12", "dr"),
        ["dr6"] = ("fd00:96::12", "dr"),
    };

    private readonly string configFile = Path.GetTempFileName();

    protected ForwardingModeTopology(string dataplane)
    {
        Dataplane = dataplane;
        Topology = new NetnsTopology();
        try
        {
            // IPVS binds the VIPs on the node: dr backends' answers, which come back through it
            // here, carry a source the node holds and need accept_local to be forwarded.
            if (dataplane == "ipvs")
                Shell.Check("ip", "netns", "exec", Topology.Lb, "sysctl", "-qw", "net.ipv4.conf.all.accept_local=1", "net.ipv4.conf.lb1.accept_local=1",
                    "net.ipv4.conf.lb2.accept_local=1", "net.ipv4.conf.lb3.accept_local=1");
            for (int b = 1; b <= 3; b++)
                foreach (var (vip, _) in Services.Values.Where(s => s.Forwarding == "dr"))
                    Shell.Check("ip", "-n", $"{Topology.Prefix}b{b}", "addr", "add", vip + (vip.Contains(':') ? "/128" : "/32"), "dev", "lo");
            File.WriteAllText(configFile, "services:\n" + string.Concat(Services.Values.Select(s => ServiceYaml(s.Vip, s.Forwarding))));
            Agent = AgentProcess.Start(Topology.Lb, Topology.AgentArgs(configFile, "--dataplane", dataplane));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Dataplane { get; }
    public NetnsTopology Topology { get; }
    public AgentProcess? Agent { get; }

    private static string ServiceYaml(string vip, string forwarding)
    {
        bool v6 = vip.Contains(':');
        // dr keeps the packet's destination port, so its service is on the backends' ports.
        int http = forwarding == "dr" ? 8080 : 80;
        string Backends(int port) => "[" + string.Join(", ", Enumerable.Range(1, 3).Select(b =>
            $"{{address: \"{(v6 ? $"fd00:1{b}::2" : $"10.0.1{b}.2")}\", port: {port}}}")) + "]";
        return $"""
              - {'{'}address: "{vip}", port: {http}, forwarding: {forwarding}, backends: {Backends(8080)}{'}'}
              - {'{'}address: "{vip}", port: 9000, protocol: udp, forwarding: {forwarding}, backends: {Backends(9000)}{'}'}

            """;
    }

    public void Dispose()
    {
        Agent?.Dispose();
        Topology.Dispose();
        File.Delete(configFile);
    }
}

/// <summary>
/// Every forwarding mode with real clients and servers: HTTP over TCP and a UDP echo, IPv4
/// and IPv6, a megabyte checked end to end, the address backends see, hairpin.
/// </summary>
public abstract class ForwardingModeTrafficTests(ForwardingModeTopology fixture)
{
    private NetnsTopology Topology => fixture.Topology;

    private static string Url(string vip, int port, string path) =>
        vip.Contains(':') ? $"http://[{vip}]:{port}{path}" : $"http://{vip}:{port}{path}";

    private static int HttpPort(string name) => ForwardingModeTopology.Services[name].Forwarding == "dr" ? 8080 : 80;

    private string Get(string netns, string name, string path = "/")
    {
        var r = Topology.Exec(netns, "curl", "-sS", "-g", "--max-time", "10", Url(ForwardingModeTopology.Services[name].Vip, HttpPort(name), path));
        Assert.True(r.ExitCode == 0, $"curl {name}{path} from {netns}: {r.Stderr}\nagent log:\n{fixture.Agent?.Log}");
        return r.Stdout.Trim();
    }

    // busybox httpd listens dual-stack: IPv4 clients show as [::ffff:a.b.c.d].
    private static string Unmapped(string remoteAddr) => remoteAddr.Trim('[', ']').Replace("::ffff:", "");

    [Fact]
    public void TheRequestedDataplaneIsInUse()
    {
        foreach (var lbInterface in NetnsTopology.LbInterfaces)
        {
            // `ip link` names the mode after the MTU: "xdp" (native) or "xdpgeneric".
            var link = Topology.Exec(Topology.Lb, "ip", "link", "show", lbInterface).Stdout;
            if (fixture.Dataplane == "ipvs")
            {
                Assert.DoesNotContain("xdplb_ingress", link);
                continue;
            }
            Assert.Contains(fixture.Dataplane == "xdp-generic" ? " xdpgeneric " : " xdp ", link);
            Assert.Contains("name xdplb_ingress", link);
        }
        var metrics = Topology.Exec(Topology.Lb, "curl", "-sS", "http://127.0.0.1:9469/metrics").Stdout;
        Assert.Contains($"xdplb_dataplane_info{{dataplane=\"{(fixture.Dataplane == "ipvs" ? "ipvs" : "xdp")}\"}} 1", metrics);
    }

    [Theory]
    [InlineData("nat4")]
    [InlineData("nat6")]
    [InlineData("masq4")]
    [InlineData("masq6")]
    [InlineData("dr4")]
    [InlineData("dr6")]
    public void HttpAndUdpAreBalancedOverTheBackends(string name)
    {
        var vip = ForwardingModeTopology.Services[name].Vip;

        var http = Enumerable.Range(0, 3).Select(_ => Get(Topology.Client, name)).ToList();
        var udp = Enumerable.Range(0, 3).Select(_ => Topology.UdpExchange(vip, 9000, 100)).ToList();

        Assert.Equal(["b1", "b2", "b3"], http.Order());                    // rr: each backend once
        Assert.Equal(["b1 100", "b2 100", "b3 100"], udp.Order());
    }

    [Theory]
    [InlineData("nat4")]
    [InlineData("nat6")]
    [InlineData("masq4")]
    [InlineData("masq6")]
    public void AMegabyteArrivesIntact(string name)
    {
        string file = Path.Combine(Path.GetTempPath(), $"xdplb-1m-{Guid.NewGuid():N}");
        try
        {
            var r = Topology.Exec(Topology.Client, "curl", "-sS", "-g", "--max-time", "60", "-o", file,
                Url(ForwardingModeTopology.Services[name].Vip, HttpPort(name), "/1m.bin"));
            Assert.True(r.ExitCode == 0, r.Stderr);

            Assert.Equal(SHA256.HashData(File.ReadAllBytes(Path.Combine(Topology.WwwDir(1), "1m.bin"))), SHA256.HashData(File.ReadAllBytes(file)));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("nat4", "10.0.1.2")]
    [InlineData("nat6", "fd00:1::2")]
    [InlineData("dr4", "10.0.1.2")]
    [InlineData("masq4", "10.0.1N.1")]  // the node's address on backend N's link
    [InlineData("masq6", "fd00:1N::1")]
    public void BackendsSeeTheClientOrForMasqTheNode(string name, string expected)
    {
        for (int i = 0; i < 3; i++)
        {
            string seen = Unmapped(Get(Topology.Client, name, "/cgi-bin/whoami"));
            Assert.Matches("^" + Regex.Escape(expected).Replace("N", "[123]") + "$", seen);
        }
    }

    [Theory]
    [InlineData("masq4")]
    [InlineData("masq6")]
    [InlineData("nat4")]   // masqueraded when it lands on itself, as kube-proxy does
    [InlineData("nat6")]
    public void ABackendReachesItsOwnServiceThroughTheVip(string name)
    {
        // rr over three backends: one of three requests from b1 is served by b1 itself.
        var answers = Enumerable.Range(0, 3).Select(_ => Get(Topology.Prefix + "b1", name)).ToList();

        Assert.Equal(["b1", "b2", "b3"], answers.Order());
    }
}
