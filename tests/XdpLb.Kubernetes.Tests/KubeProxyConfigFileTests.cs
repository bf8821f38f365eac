using System.Net;
using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Kubernetes.Tests;

public class KubeProxyConfigFileTests
{
    // config.conf of the kube-proxy ConfigMap as kubeadm writes it (every field, zero values for
    // the unset ones), with ipvs mode and some settings a cluster admin would change.
    private const string KubeadmConfig = """
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        bindAddress: 0.0.0.0
        bindAddressHardFail: false
        clientConnection:
          acceptContentTypes: ""
          burst: 0
          contentType: ""
          kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
          qps: 0
        clusterCIDR: 10.244.0.0/16,fd00:10:244::/56
        configSyncPeriod: 0s
        conntrack:
          maxPerCore: null
          min: null
          tcpBeLiberal: false
          tcpCloseWaitTimeout: null
          tcpEstablishedTimeout: null
          udpStreamTimeout: 0s
          udpTimeout: 0s
        detectLocal:
          bridgeInterface: ""
          interfaceNamePrefix: ""
        detectLocalMode: ""
        enableProfiling: false
        healthzBindAddress: ""
        hostnameOverride: ""
        iptables:
          localhostNodePorts: null
          masqueradeAll: true
          masqueradeBit: null
          minSyncPeriod: 0s
          syncPeriod: 0s
        ipvs:
          excludeCIDRs:
          - 192.168.100.0/24
          minSyncPeriod: 2s
          scheduler: mh
          strictARP: true
          syncPeriod: 45s
          tcpFinTimeout: 0s
          tcpTimeout: 15m
          udpTimeout: 1h2m3s
        kind: KubeProxyConfiguration
        logging:
          flushFrequency: 0
          options:
            json:
              infoBufferSize: "0"
            text:
              infoBufferSize: "0"
          verbosity: 0
        metricsBindAddress: ""
        mode: ipvs
        nftables:
          masqueradeAll: false
          masqueradeBit: null
          minSyncPeriod: 0s
          syncPeriod: 0s
        nodePortAddresses:
        - 10.0.0.0/8
        - fd00::/64
        oomScoreAdj: null
        portRange: ""
        showHiddenMetricsForVersion: ""
        winkernel:
          enableDSR: false
          forwardHealthCheckVip: false
          networkName: ""
          rootHnsEndpointName: ""
          sourceVip: ""
        """;

    private const string Minimal = """
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration

        """;

    [Fact]
    public void KubeadmConfigMapBodyGivesItsSettings()
    {
        var settings = KubeProxyConfigFile.Parse(KubeadmConfig, "config.conf");

        Assert.Equal(Scheduler.Mh, settings.Scheduler);
        Assert.Equal([SchedulerFlag.MhPort], settings.SchedulerFlags);
        Assert.Equal(TimeSpan.FromSeconds(45), settings.Sync.SyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.Sync.MinSyncPeriod);
        Assert.Equal(new Timeouts(Tcp: 900, TcpFin: 120, Udp: 3723), settings.Timeouts);
        Assert.Equal([IPNetwork.Parse("192.168.100.0/24")], settings.ExcludeCidrs);
        Assert.Equal([IPNetwork.Parse("10.244.0.0/16"), IPNetwork.Parse("fd00:10:244::/56")], settings.ClusterCidrs);
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("fd00::/64")], settings.NodePortAddresses);
        Assert.False(settings.NodePortPrimaryOnly);
        Assert.True(settings.MasqueradeAll);
        Assert.Null(settings.HostnameOverride);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 10256), settings.HealthzBindAddress);
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void KubeadmDefaultsWithEveryValueUnsetAreKubeProxysDefaults()
    {
        string text = KubeadmConfig
            .Replace("clusterCIDR: 10.244.0.0/16,fd00:10:244::/56", "clusterCIDR: \"\"")
            .Replace("  masqueradeAll: true", "  masqueradeAll: false")
            .Replace("  - 192.168.100.0/24\n", "").Replace("excludeCIDRs:", "excludeCIDRs: null")
            .Replace("minSyncPeriod: 2s", "minSyncPeriod: 0s").Replace("scheduler: mh", "scheduler: \"\"")
            .Replace("syncPeriod: 45s", "syncPeriod: 0s").Replace("tcpTimeout: 15m", "tcpTimeout: 0s")
            .Replace("udpTimeout: 1h2m3s", "udpTimeout: 0s").Replace("mode: ipvs", "mode: \"\"")
            .Replace("- 10.0.0.0/8\n", "").Replace("- fd00::/64\n", "").Replace("nodePortAddresses:", "nodePortAddresses: null");

        var settings = KubeProxyConfigFile.Parse(text, "config.conf");

        var defaults = new ProxySettings();
        Assert.Equal(Scheduler.Rr, settings.Scheduler);
        Assert.Empty(settings.SchedulerFlags);
        Assert.Equal(defaults.Sync, settings.Sync);
        Assert.Equal(defaults.Timeouts, settings.Timeouts);
        Assert.Empty(settings.ExcludeCidrs);
        Assert.Empty(settings.ClusterCidrs);
        Assert.Empty(settings.NodePortAddresses);
        Assert.False(settings.MasqueradeAll);
        Assert.Equal(new IPEndPoint(IPAddress.Any, 10256), settings.HealthzBindAddress);
        Assert.Empty(settings.Warnings);
    }

    [Theory]
    [InlineData("rr", Scheduler.Rr)]
    [InlineData("wrr", Scheduler.Wrr)]
    [InlineData("lc", Scheduler.Lc)]
    [InlineData("wlc", Scheduler.Wlc)]
    [InlineData("sh", Scheduler.Sh)]
    [InlineData("dh", Scheduler.Dh)]
    [InlineData("sed", Scheduler.Sed)]
    [InlineData("nq", Scheduler.Nq)]
    public void EachSchedulerIsReadAndOnlyMhGetsAFlag(string name, Scheduler expected)
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + $"ipvs:\n  scheduler: {name}\n", "f");
        Assert.Equal(expected, settings.Scheduler);
        Assert.Empty(settings.SchedulerFlags);
    }

    [Theory]
    [InlineData("lblc", "kube-proxy accepts it")]
    [InlineData("RR", "valid: rr, wrr, lc, wlc, sh, dh, sed, nq, mh")]
    [InlineData("fifo", "valid: rr, wrr, lc, wlc, sh, dh, sed, nq, mh")]
    public void UnknownSchedulerIsAnErrorNamingItAndTheValidOnes(string name, string expectedText)
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + $"ipvs:\n  scheduler: {name}\n", "/etc/kube-proxy/config.conf"));
        string error = Assert.Single(e.Errors);
        Assert.Contains("ipvs.scheduler", error);
        Assert.Contains($"\"{name}\"", error);
        Assert.Contains(expectedText, error);
        Assert.StartsWith("/etc/kube-proxy/config.conf:", e.Message);
    }

    [Theory]
    [InlineData("900s", 900u)]
    [InlineData("15m", 900u)]
    [InlineData("1h2m3s", 3723u)]
    [InlineData("1.5m", 90u)]
    [InlineData("2500ms", 2u)]
    [InlineData("\"90s\"", 90u)]
    public void GoDurationStringsGiveWholeSeconds(string text, uint seconds)
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + $"ipvs:\n  tcpTimeout: {text}\n", "f");
        Assert.Equal(seconds, settings.Timeouts.Tcp);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("0")]
    [InlineData("500ms")]
    public void ATimeoutUnderOneSecondKeepsTheDefault(string text)
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + $"ipvs:\n  tcpFinTimeout: {text}\n  udpTimeout: {text}\n", "f");
        Assert.Equal(new Timeouts(), settings.Timeouts);
    }

    [Theory]
    [InlineData("tcpTimeout", "15")]
    [InlineData("tcpTimeout", "abc")]
    [InlineData("tcpFinTimeout", "1x")]
    [InlineData("udpTimeout", "\"\"")]
    [InlineData("syncPeriod", "5 s")]
    [InlineData("minSyncPeriod", "1h-1s")]
    public void MalformedDurationIsAnErrorNamingTheFieldAndValue(string field, string text)
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + $"ipvs:\n  {field}: {text}\n", "kp.yaml"));
        string error = Assert.Single(e.Errors);
        Assert.Contains($"ipvs.{field}", error);
        Assert.Contains($"\"{text.Trim('"')}\" is not a duration", error);
        Assert.Contains("kp.yaml", e.Message);
    }

    [Theory]
    [InlineData("tcpTimeout: -1s", "ipvs.tcpTimeout")]
    [InlineData("udpTimeout: 1000h", "ipvs.udpTimeout")]
    [InlineData("syncPeriod: -30s", "ipvs.syncPeriod")]
    [InlineData("minSyncPeriod: -1s", "ipvs.minSyncPeriod")]
    public void OutOfRangeDurationsAreErrors(string line, string path)
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + $"ipvs:\n  {line}\n", "f"));
        Assert.Contains(path, Assert.Single(e.Errors));
    }

    [Fact]
    public void SyncPeriodsFallBackToTheTopLevelThenToTheDefaults()
    {
        var topLevel = KubeProxyConfigFile.Parse(Minimal + "syncPeriod: 1m\nminSyncPeriod: 5s\nipvs:\n  syncPeriod: 0s\n", "f");
        Assert.Equal(TimeSpan.FromMinutes(1), topLevel.Sync.SyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(5), topLevel.Sync.MinSyncPeriod);

        var ipvsWins = KubeProxyConfigFile.Parse(Minimal + "syncPeriod: 1m\nipvs:\n  syncPeriod: 10s\n", "f");
        Assert.Equal(TimeSpan.FromSeconds(10), ipvsWins.Sync.SyncPeriod);
        Assert.Equal(TimeSpan.FromSeconds(1), ipvsWins.Sync.MinSyncPeriod);

        var none = KubeProxyConfigFile.Parse(Minimal, "f");
        Assert.Equal(new SyncSettings(), none.Sync);
    }

    [Fact]
    public void SyncPeriodShorterThanMinSyncPeriodIsAnError()
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + "ipvs:\n  syncPeriod: 5s\n  minSyncPeriod: 10s\n", "f"));
        string error = Assert.Single(e.Errors);
        Assert.Contains("ipvs.syncPeriod", error);
        Assert.Contains("minSyncPeriod 10s", error);
    }

    [Theory]
    [InlineData("apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\n", "apiVersion", "kubeproxy.config.k8s.io/v1alpha2")]
    [InlineData("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n", "kind", "KubeletConfiguration")]
    [InlineData("kind: KubeProxyConfiguration\nmode: ipvs\n", "apiVersion", "missing")]
    [InlineData("apiVersion: kubeproxy.config.k8s.io/v1alpha1\n", "kind", "missing")]
    public void WrongOrMissingTypeIsAnError(string text, string field, string value)
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(text, "f"));
        string error = Assert.Single(e.Errors);
        Assert.Contains($"{field}:", error);
        Assert.Contains(value, error);
    }

    [Fact]
    public void AnotherSchemaReportsOnlyItsTypeNotItsFields()
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse("apiVersion: v1\nkind: ConfigMap\ndata:\n  config.conf: x\n", "f"));
        Assert.Equal(2, e.Errors.Count);
        Assert.DoesNotContain(e.Errors, m => m.Contains("data"));
    }

    [Theory]
    [InlineData("clusterCIDR: 10.244.0.0/33", "clusterCIDR", "10.244.0.0/33")]
    [InlineData("clusterCIDR: 10.244.0.0/16,10.245.0.0/16", "clusterCIDR", "one IPv4 and one IPv6")]
    [InlineData("clusterCIDR: 10.244.0.0", "clusterCIDR", "10.244.0.0")]
    [InlineData("ipvs:\n  excludeCIDRs:\n  - 10.0.0.0/8\n  - 300.0.0.0/8", "ipvs.excludeCIDRs[1]", "300.0.0.0/8")]
    [InlineData("nodePortAddresses:\n- fd00::/129", "nodePortAddresses[0]", "fd00::/129")]
    [InlineData("nodePortAddresses:\n- primary\n- 10.0.0.0/8", "nodePortAddresses", "primary")]
    public void MalformedCidrIsAnErrorNamingTheFieldAndValue(string yaml, string path, string value)
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + yaml + "\n", "f"));
        string error = Assert.Single(e.Errors);
        Assert.Contains($"{path}:", error);
        Assert.Contains(value, error);
    }

    [Fact]
    public void CidrsWithHostBitsAreMaskedAsKubeProxyDoes()
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + "clusterCIDR: 10.244.1.7/16\n", "f");
        Assert.Equal([IPNetwork.Parse("10.244.0.0/16")], settings.ClusterCidrs);
    }

    [Fact]
    public void NodePortAddressesPrimaryMeansTheNodesPrimaryAddresses()
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + "nodePortAddresses: [\"primary\"]\n", "f");
        Assert.True(settings.NodePortPrimaryOnly);
        Assert.Empty(settings.NodePortAddresses);
    }

    [Theory]
    [InlineData("mapping", "ipvs:\n  scheduler:\n    name: rr", "ipvs.scheduler", "expected a string")]
    [InlineData("list for a string", "hostnameOverride: [a, b]", "hostnameOverride", "expected a string")]
    [InlineData("string for a list", "nodePortAddresses: 10.0.0.0/8", "nodePortAddresses", "expected a list")]
    [InlineData("string for a section", "ipvs: rr", "ipvs", "expected a mapping")]
    [InlineData("not a boolean", "iptables:\n  masqueradeAll: yes please", "iptables.masqueradeAll", "\"yes please\" is not true or false")]
    public void WrongTypeIsAnErrorNamingTheField(string what, string yaml, string path, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + yaml + "\n", "f"));
        string error = Assert.Single(e.Errors);
        Assert.True(error.Contains($"{path}:") && error.Contains(expected), $"{what}: {error}");
    }

    [Fact]
    public void UnknownTopLevelFieldIsAnErrorAndIpvsTyposToo()
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + "masqueradeAl: true\nipvs:\n  schedular: mh\n", "f"));
        Assert.Equal(2, e.Errors.Count);
        Assert.Contains(e.Errors, m => m.Contains("masqueradeAl:") && m.Contains("unknown field"));
        Assert.Contains(e.Errors, m => m.Contains("ipvs.schedular:") && m.Contains("unknown field"));
    }

    [Fact]
    public void EveryErrorIsReportedAtOnceWithItsLine()
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(
            Minimal + "clusterCIDR: nope\nipvs:\n  tcpTimeout: soon\n  scheduler: fifo\n", "f"));
        Assert.Equal(3, e.Errors.Count);
        Assert.Contains(e.Errors, m => m.StartsWith("line 3: clusterCIDR:"));
        Assert.Contains(e.Errors, m => m.StartsWith("line 5: ipvs.tcpTimeout:"));
    }

    [Theory]
    [InlineData("iptables")]
    [InlineData("nftables")]
    public void AModeOtherThanIpvsIsAWarning(string mode)
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + $"mode: {mode}\n", "f");
        string warning = Assert.Single(settings.Warnings);
        Assert.Contains($"\"{mode}\"", warning);
    }

    [Theory]
    [InlineData("NodeCIDR")]
    [InlineData("InterfaceNamePrefix")]
    public void ALocalTrafficDetectorOtherThanClusterCIDRIsAWarning(string detector)
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + $"detectLocalMode: {detector}\n", "f");
        Assert.Contains($"\"{detector}\"", Assert.Single(settings.Warnings));
        Assert.Empty(KubeProxyConfigFile.Parse(Minimal + "detectLocalMode: ClusterCIDR\n", "f").Warnings);
    }

    [Fact]
    public void StrictARPIsRead()
    {
        Assert.True(KubeProxyConfigFile.Parse(Minimal + "ipvs:\n  strictARP: true\n", "f").StrictArp);
        Assert.False(KubeProxyConfigFile.Parse(Minimal, "f").StrictArp);
    }

    [Fact]
    public void MasqueradeAllIsReadFromTheSectionOfTheModeAsKubeProxyConvertsIt()
    {
        const string both = "iptables:\n  masqueradeAll: false\nnftables:\n  masqueradeAll: true\n";
        Assert.False(KubeProxyConfigFile.Parse(Minimal + "mode: ipvs\n" + both, "f").MasqueradeAll);
        Assert.True(KubeProxyConfigFile.Parse(Minimal + "mode: nftables\n" + both, "f").MasqueradeAll);
    }

    [Theory]
    [InlineData("0.0.0.0:10256", "0.0.0.0", 10256)]
    [InlineData("0.0.0.0", "0.0.0.0", 10256)]
    [InlineData(":10256", "0.0.0.0", 10256)]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8080)]
    [InlineData("\"[::]:10257\"", "::", 10257)]
    [InlineData("\"::1\"", "::1", 10256)]
    public void HealthzBindAddressForms(string text, string address, int port)
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + $"healthzBindAddress: {text}\n", "f");
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), settings.HealthzBindAddress);
    }

    [Fact]
    public void HealthzDefaultsToTheIpv6WildcardWhenBindAddressIsIpv6()
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + "bindAddress: \"::\"\n", "f");
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 10256), settings.HealthzBindAddress);
    }

    [Theory]
    [InlineData("0.0.0.0:99999")]
    [InlineData("localhost:10256")]
    [InlineData("10256")]
    [InlineData("0.0.0.0:")]
    public void MalformedHealthzBindAddressIsAnError(string text)
    {
        var e = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse(Minimal + $"healthzBindAddress: \"{text}\"\n", "f"));
        string error = Assert.Single(e.Errors);
        Assert.Contains("healthzBindAddress:", error);
        Assert.Contains($"\"{text}\"", error);
    }

    [Fact]
    public void HostnameOverrideIsTrimmedAndLowerCasedAsKubeProxyDoes()
    {
        var settings = KubeProxyConfigFile.Parse(Minimal + "hostnameOverride: \" Node-1 \"\n", "f");
        Assert.Equal("node-1", settings.HostnameOverride);
    }

    [Fact]
    public void InvalidYamlAndEmptyFilesAreErrors()
    {
        Assert.Contains("not valid YAML", Assert.Single(Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse("a: [", "f")).Errors));
        Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse("", "f"));
        Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Parse("- a\n", "f"));
    }

    [Fact]
    public void LoadReadsTheFileAndNamesItInErrors()
    {
        string dir = Directory.CreateTempSubdirectory("kpconfig").FullName;
        try
        {
            string path = Path.Combine(dir, "config.conf");
            File.WriteAllText(path, KubeadmConfig);
            Assert.Equal(Scheduler.Mh, KubeProxyConfigFile.Load(path).Scheduler);

            var missing = Assert.Throws<ConfigException>(() => KubeProxyConfigFile.Load(Path.Combine(dir, "absent.conf")));
            Assert.Contains("absent.conf", missing.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
