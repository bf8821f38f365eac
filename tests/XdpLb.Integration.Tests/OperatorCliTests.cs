using System.Text.Json;

namespace XdpLb.Integration.Tests;

/// <summary>`xdplb list` and `xdplb stats` against a running agent, the metrics and health endpoints.</summary>
public sealed class OperatorCliTests : IDisposable
{
    private readonly NetnsTopology topology = new();
    private readonly string configFile = Path.GetTempFileName();

    private const string Config = """
        limits: {connections: 4096}
        services:
          - {name: web, address: 10.96.0.10, port: 80, persistence: 10800, backends: [{address: 10.0.11.2, port: 8080}, {address: 10.0.12.2, port: 8080, weight: 0}]}
          - {name: api, address: 10.96.0.11, port: 80, scheduler: wlc, backends: [{address: 10.0.13.2, port: 8080, weight: 3}]}
          - {name: dns, address: 10.96.0.10, port: 9000, protocol: udp, backends: [{address: 10.0.11.2}]}
          - {name: v6, address: "fd00:96::10", port: 80, scheduler: sh, flags: [sh-port, sh-fallback], backends: [{address: "fd00:11::2", port: 8080, weight: 3}]}
        """;

    private ShellResult Cli(params string[] args) =>
        Shell.Run(Repo.Agent, args.Append("--api-socket").Append(topology.Home.ApiSocket), TimeSpan.FromSeconds(30));

    [Fact]
    public void ListPrintsIpvsadmsLayoutForTheRunningState()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        for (int i = 0; i < 2; i++)
            Assert.Equal("b1", topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10/").Stdout.Trim());

        var list = Cli("list", "-n");

        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.Equal("""
            IP Virtual Server version 1.2.1 (size=4096)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  10.96.0.10:80 rr persistent 10800
              -> 10.0.11.2:8080               Masq    1      0          2         
              -> 10.0.12.2:8080               Masq    0      0          0         
            TCP  10.96.0.11:80 wlc
              -> 10.0.13.2:8080               Masq    3      0          0         
            UDP  10.96.0.10:9000 rr
              -> 10.0.11.2:9000               Masq    1      0          0         
            TCP  [fd00:96::10]:80 sh (sh-fallback,sh-port)
              -> [fd00:11::2]:8080            Masq    3      0          0         

            """.Replace("\r", ""), list.Stdout);

        var stats = Cli("list", "-n", "--stats").Stdout.Split('\n');
        Assert.Equal("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes", stats[1]);
        Assert.StartsWith("TCP  10.96.0.10:80                       2", stats[3]);

        var connections = Cli("list", "-n", "-c").Stdout.Split('\n');
        Assert.Equal("pro expire state       source             virtual            destination", connections[1]);
        Assert.Equal(2, connections.Count(l => l.StartsWith("TCP ", StringComparison.Ordinal) && l.Contains("TIME_WAIT") && l.Contains("10.96.0.10:80") && l.EndsWith("10.0.11.2:8080")));
    }

    [Fact]
    public void StatsShowsPerBackendCountersAndDropsByReason()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10/");

        var text = Cli("stats", "--service", "10.96.0.10:80/tcp");
        var json = JsonDocument.Parse(Cli("stats", "--json").Stdout).RootElement;
        var missing = Cli("stats", "--service", "10.96.0.99:80/tcp");

        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("TCP 10.96.0.10:80 (web) rr", text.Stdout);
        Assert.Contains("drop_conntrack_full", text.Stdout);
        var web = json.GetProperty("services").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "web");
        var b1 = web.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("address").GetString() == "10.0.11.2");
        Assert.Equal("1", b1.GetProperty("stats").GetProperty("conns").GetString());
        Assert.True(ulong.Parse(b1.GetProperty("stats").GetProperty("inPackets").GetString()!) >= 5);
        Assert.Equal("1", json.GetProperty("counters").GetProperty("new_flow").GetString());
        Assert.Equal("1", json.GetProperty("counters").GetProperty("conntrack_opened").GetString());
        Assert.Equal("1", json.GetProperty("counters").GetProperty("conntrack_assured").GetString());
        Assert.Matches(@"connection table:\n  conntrack_opened +1\n  conntrack_assured +1\n", text.Stdout);
        Assert.Contains("conntrack_reclaimed_tcp_half_open", text.Stdout);
        Assert.Contains("conntrack_refused_full", text.Stdout);
        Assert.Equal("xdp", json.GetProperty("dataplane").GetString());
        Assert.EndsWith("dataplane: xdp\n", text.Stdout);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no service 10.96.0.99:80/tcp", missing.Stderr);
    }

    [Fact]
    public void MetricsHealthAndTheSocketsMode()
    {
        File.WriteAllText(configFile, Config);
        using var agent = AgentProcess.Start(topology.Lb, topology.AgentArgs(configFile));
        topology.Exec(topology.Client, "curl", "-sS", "--max-time", "5", "http://10.96.0.10/");

        string metrics = topology.Exec(topology.Lb, "curl", "-sS", "--max-time", "5", "http://127.0.0.1:9469/metrics").Stdout;
        var healthz = topology.Exec(topology.Lb, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:9469/healthz");
        var readyz = topology.Exec(topology.Lb, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:9469/readyz");

        Assert.Contains("xdplb_backend_connections_total{service=\"10.96.0.10:80/tcp\",backend=\"10.0.11.2:8080\"} 1", metrics);
        Assert.Contains("xdplb_datapath_packets_total{outcome=\"new_flow\"} 1", metrics);
        Assert.Contains("xdplb_map_capacity{map=\"conntrack\"} 8192", metrics);
        Assert.Contains("xdplb_conntrack_connections 1", metrics);
        Assert.Contains("xdplb_conntrack_connections_limit 4096", metrics);
        Assert.Contains("xdplb_conntrack_events_total{event=\"opened\"} 1", metrics);
        Assert.Contains("xdplb_conntrack_events_total{event=\"reclaimed_tcp_half_open\"} 0", metrics);
        Assert.DoesNotContain("xdplb_map_entries{map=\"conntrack\"}", metrics); // never walked on a scrape
        Assert.Contains("xdplb_sync_duration_seconds_count{kind=\"full\"} 1", metrics);
        Assert.Equal("200", healthz.Stdout);
        Assert.Equal("200", readyz.Stdout);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(topology.Home.ApiSocket));
    }

    [Fact]
    public void WithoutAnAgentTheCliSaysSo()
    {
        var r = Cli("list");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("no agent API at", r.Stderr);
    }

    public void Dispose()
    {
        topology.Dispose();
        File.Delete(configFile);
    }
}
