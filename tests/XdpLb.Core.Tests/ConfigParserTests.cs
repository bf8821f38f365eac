using System.Net;
using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Core.Tests;

public sealed class ConfigParserTests
{
    [Fact]
    public void EmptyFileIsTheDefaultConfig()
    {
        var config = ConfigParser.Parse("");

        Assert.Equal(new Timeouts(900, 120, 300), config.Timeouts);
        Assert.Equal(TimeSpan.FromSeconds(1), config.Sync.MinSyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Sync.SyncPeriod);
        Assert.Equal(new Limits(100_000, 1_000_000, 1_000_000), config.Limits);
        Assert.Equal(new PortRange(32768, 60999), config.Masq.PortRange);
        Assert.Empty(config.Services);
    }

    [Fact]
    public void ServiceDefaultsAreThoseTheReadmeDocuments()
    {
        var s = Assert.Single(ConfigParser.Parse("""
            services:
              - address: 10.96.0.10
                port: 80
                backends: [{address: 10.0.2.2}]
            """).Services);

        Assert.Equal(Protocol.Tcp, s.Protocol);
        Assert.Equal(Scheduler.Rr, s.Scheduler);
        Assert.Equal(Forwarding.Nat, s.Forwarding);
        Assert.Equal(0u, s.Persistence);
        Assert.False(s.NodePort);
        Assert.Equal(TrafficPolicy.Cluster, s.ExternalTrafficPolicy);
        Assert.Empty(s.Flags);
        Assert.Empty(s.SourceRanges);
        var b = Assert.Single(s.Backends);
        Assert.Equal(new Backend(IPAddress.Parse("10.0.2.2"), Port: 80, Weight: 1, Local: false), b); // port defaults to the service port
    }

    [Fact]
    public void EveryKeyIsRead()
    {
        var config = ConfigParser.Parse("""
            timeouts: {tcp: 15m, tcpFin: "60s", udp: 30}
            sync: {minSyncPeriod: 500ms, syncPeriod: 1m}
            limits: {services: 10, backends: 20, connections: 30}
            masq: {portRange: 40000-40100}
            services:
              - name: dns
                address: fd00::10
                port: 53
                protocol: udp
                scheduler: sh
                flags: [sh-port, sh-fallback]
                persistence: 3h
                forwarding: masq
                sourceRanges: [fd00::/8]
                backends:
                  - {address: "fd00::2", port: 5353, weight: 0, local: true}
              - name: np
                port: 30080
                nodePort: true
                externalTrafficPolicy: local
            """);

        Assert.Equal(new Timeouts(900, 60, 30), config.Timeouts);
        Assert.Equal(TimeSpan.FromMilliseconds(500), config.Sync.MinSyncPeriod);
        Assert.Equal(TimeSpan.FromMinutes(1), config.Sync.SyncPeriod);
        Assert.Equal(new Limits(10, 20, 30), config.Limits);
        Assert.Equal(new PortRange(40000, 40100), config.Masq.PortRange);
        var dns = config.Services[0];
        Assert.Equal("dns", dns.Name);
        Assert.Equal(new ServiceKey(IPAddress.Parse("fd00::10"), 53, Protocol.Udp), dns.Key);
        Assert.Equal(Scheduler.Sh, dns.Scheduler);
        Assert.Equal([SchedulerFlag.ShPort, SchedulerFlag.ShFallback], dns.Flags);
        Assert.Equal(10800u, dns.Persistence);
        Assert.Equal(Forwarding.Masq, dns.Forwarding);
        Assert.Equal(["fd00::/8"], dns.SourceRanges);
        Assert.Equal(new Backend(IPAddress.Parse("fd00::2"), 5353, 0, true), dns.Backends[0]);
        var np = config.Services[1];
        Assert.True(np.NodePort);
        Assert.Null(np.Address);
        Assert.Equal(TrafficPolicy.Local, np.ExternalTrafficPolicy);
    }

    [Theory]
    [InlineData("", Forwarding.Masq)]                                     // kube-proxy masquerades NodePort traffic
    [InlineData("externalTrafficPolicy: local", Forwarding.Nat)]          // ... unless the client's address is to be kept
    [InlineData("forwarding: nat", Forwarding.Nat)]                       // or the operator says otherwise
    [InlineData("forwarding: dr", Forwarding.Dr)]
    public void NodePortServicesAreMasqueradedByDefaultWithTrafficPolicyCluster(string line, Forwarding expected)
    {
        var s = ConfigParser.Parse($"""
            services:
              - port: 30080
                nodePort: true
                {line}
            """).Services[0];

        Assert.Equal(expected, s.Forwarding);
    }

    [Fact]
    public void BackendsKeepTheirListedOrder()
    {
        var s = ConfigParser.Parse("""
            services:
              - address: 10.96.0.10
                port: 80
                backends: [{address: 10.0.0.3}, {address: 10.0.0.1}, {address: 10.0.0.2}]
            """).Services[0];

        Assert.Equal(["10.0.0.3", "10.0.0.1", "10.0.0.2"], s.Backends.Select(b => b.Address.ToString()));
    }

    [Fact]
    public void ClusterCidrsAndMasqueradeOutsideClusterAreRead()
    {
        var config = ConfigParser.Parse("""
            clusterCidrs: [10.244.0.0/16, "fd00:244::/48"]
            services:
              - address: 10.96.0.10
                port: 80
                masqueradeOutsideCluster: true
            """, "test.yaml");
        Assert.Equal(["10.244.0.0/16", "fd00:244::/48"], config.ClusterCidrs);
        Assert.True(config.Services[0].MasqueradeOutsideCluster);
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse("clusterCidrs: [10.244.0.0/99]\n", "test.yaml"));
        Assert.Contains(e.Errors, error => error.Contains("clusterCidrs: \"10.244.0.0/99\" is not a CIDR", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("scheduler: fastest", "line 4: services[0] \"web\".scheduler: \"fastest\" is not a scheduler (one of: rr, wrr, lc, wlc, sh, dh, sed, nq, mh)")]
    [InlineData("protocol: icmp", "services[0] \"web\".protocol: \"icmp\" is not a protocol (one of: tcp, udp, sctp)")]
    [InlineData("forwarding: bridge", "services[0] \"web\".forwarding: \"bridge\" is not a forwarding mode")]
    [InlineData("flags: [sh-ports]", "services[0] \"web\".flags: \"sh-ports\" is not a scheduler flag")]
    [InlineData("persistence: forever", "services[0] \"web\".persistence: \"forever\" is not a duration")]
    [InlineData("persistence: 1500ms", "services[0] \"web\".persistence: \"1500ms\" is not a whole number of seconds")]
    [InlineData("nodePort: yes", "services[0] \"web\".nodePort: \"yes\" is not true or false")]
    [InlineData("colour: blue", "services[0] \"web\": unknown key \"colour\"")]
    [InlineData("backends: [{address: 10.0.0.1, weight: 70000}]", "services[0] \"web\".backends[0].weight: \"70000\" is not an integer from 0 to 65535")]
    [InlineData("backends: [{address: 10.0.0.1, port: 0}]", "services[0] \"web\".backends[0].port: \"0\" is not an integer from 1 to 65535")]
    [InlineData("backends: [{port: 80}]", "services[0] \"web\".backends[0]: key \"address\" is required")]
    [InlineData("backends: [{address: 10.0.0.256}]", "services[0] \"web\".backends[0].address: \"10.0.0.256\" is not an IPv4 or IPv6 address")]
    [InlineData("backends: [{address: fd00::1}]", "service \"web\" (10.96.0.10:80/tcp): backends[0] ([fd00::1]:80): address: \"fd00::1\" is IPv6 but the service address is IPv4")]
    [InlineData("backends: [{address: 10.0.0.1}, {address: 10.0.0.1}]", "backends[1] (10.0.0.1:80): listed twice")]
    [InlineData("forwarding: dr\n    backends: [{address: 10.0.0.1, port: 8080}]", "port: 8080 must equal the service port 80 with forwarding \"dr\"")]
    [InlineData("flags: [mh-port]", "flags: \"mh-port\" does not apply to scheduler \"rr\"")]
    [InlineData("sourceRanges: [10.0.0.0/33]", "sourceRanges: \"10.0.0.0/33\" is not a CIDR")]
    [InlineData("nodePort: true", "address: \"10.96.0.10\" must be left out when nodePort is true")]
    [InlineData("forwarding: masq\n    masqueradeOutsideCluster: true", "masqueradeOutsideCluster: applies to forwarding \"nat\" only (\"masq\" masquerades every client)")]
    [InlineData("masqueradeOutsideCluster: maybe", "masqueradeOutsideCluster: \"maybe\" is not true or false")]
    [InlineData("forwarding: masq\n    externalTrafficPolicy: local", "forwarding: \"masq\" replaces the client's address, which externalTrafficPolicy \"local\" is there to keep")]
    public void BadServiceValuesAreNamed(string line, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse($"""
            services:
              - name: web
                address: 10.96.0.10
                {line}
                port: 80
            """, "test.yaml"));

        Assert.Contains(e.Errors, error => error.Contains(expected, StringComparison.Ordinal));
        Assert.StartsWith("test.yaml:", e.Message);
    }

    [Fact]
    public void AnOutOfRangeServicePortIsNamed()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse("services: [{name: web, address: 10.96.0.10, port: 70000}]"));

        Assert.Equal("line 1: services[0] \"web\".port: \"70000\" is not an integer from 1 to 65535", Assert.Single(e.Errors));
    }

    [Theory]
    [InlineData("timeouts: {tcp: 0}", "timeouts.tcp: 0s is out of range")]
    [InlineData("timeouts: {tcpfin: 10}", "timeouts: unknown key \"tcpfin\"")]
    [InlineData("sync: {syncPeriod: 0s}", "sync.syncPeriod: must be greater than 0")]
    [InlineData("limits: {services: -1}", "limits.services: \"-1\" is not an integer")]
    [InlineData("masq: {portRange: 60000-50000}", "masq.portRange: \"60000-50000\" is not a port range")]
    [InlineData("servces: []", "(top level): unknown key \"servces\"")]
    [InlineData("services: {a: 1}", "services: expected a list")]
    [InlineData("limits: {services: 1}\nservices: [{address: 10.0.0.1, port: 1}, {address: 10.0.0.1, port: 2}]", "limits.services: 2 services are configured but limits.services is 1")]
    public void BadGlobalValuesAreNamed(string yaml, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse(yaml));

        Assert.Contains(e.Errors, error => error.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void EveryErrorIsReportedAtOnce()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse("""
            services:
              - {name: a, address: 10.96.0.300, port: 80}
              - {name: b, address: 10.96.0.10, port: 80, scheduler: x}
              - {name: c, port: 80}
            """));

        Assert.Equal(3, e.Errors.Count);
    }

    [Fact]
    public void DuplicateServicesAreRejectedNamingBoth()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse("""
            services:
              - {name: a, address: 10.96.0.10, port: 80}
              - {name: b, address: 10.96.0.10, port: 80, protocol: udp}
              - {name: c, address: 10.96.0.10, port: 80}
            """));

        Assert.Equal("service \"c\" (10.96.0.10:80/tcp): duplicate of service \"a\" (10.96.0.10:80/tcp): address, port and protocol must be unique", Assert.Single(e.Errors));
    }

    [Fact]
    public void InvalidYamlNamesTheLine()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse("services:\n  - {address: [\n"));

        Assert.StartsWith("line ", Assert.Single(e.Errors));
        Assert.Contains("not valid YAML", e.Errors[0]);
    }
}
