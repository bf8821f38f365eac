using System.Globalization;
using System.Net;
using System.Net.Sockets;
using XdpLb.Core.Config;
using XdpLb.Core.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace XdpLb.Kubernetes;

/// <summary>
/// Reads kube-proxy's own configuration file (KubeProxyConfiguration, kubeproxy.config.k8s.io/v1alpha1,
/// the config.conf of kubeadm's kube-proxy ConfigMap) into <see cref="ProxySettings"/>, so xdplb takes
/// over with the settings the cluster already has. Fields kube-proxy has and xdplb does not use are
/// accepted and ignored; anything malformed throws <see cref="ConfigException"/> listing every problem.
/// </summary>
public static class KubeProxyConfigFile
{
    public const string ApiVersion = "kubeproxy.config.k8s.io/v1alpha1";
    public const string Kind = "KubeProxyConfiguration";
    /// <summary>kube-proxy's healthz port (ports.ProxyHealthzPort).</summary>
    public const ushort HealthzPort = 10256;

    // Every field v1alpha1 has had, including ones later removed (resourceContainer, udpIdleTimeout),
    // so a file written by an older kubeadm still loads. syncPeriod and minSyncPeriod at the top level
    // are where newer kube-proxy keeps them.
    private static readonly HashSet<string> TopLevelFields =
    [
        "apiVersion", "kind", "featureGates", "clientConnection", "logging", "hostnameOverride", "bindAddress",
        "healthzBindAddress", "metricsBindAddress", "bindAddressHardFail", "enableProfiling",
        "showHiddenMetricsForVersion", "mode", "iptables", "ipvs", "nftables", "winkernel", "detectLocalMode",
        "detectLocal", "clusterCIDR", "nodePortAddresses", "oomScoreAdj", "conntrack", "configSyncPeriod",
        "portRange", "windowsRunAsService", "udpIdleTimeout", "resourceContainer", "syncPeriod", "minSyncPeriod",
    ];

    private static readonly HashSet<string> IpvsFields =
    [
        "syncPeriod", "minSyncPeriod", "scheduler", "excludeCIDRs", "strictARP", "tcpTimeout", "tcpFinTimeout",
        "udpTimeout", "ipSet",
    ];

    /// <summary>IPVS rejects timeouts above INT_MAX jiffies; this ceiling is safe for every HZ.</summary>
    private const uint MaxTimeoutSeconds = 2_000_000;

    public static ProxySettings Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, [$"cannot be read: {e.Message}"]);
        }
        return Parse(text, path);
    }

    public static ProxySettings Parse(string yamlText, string path)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yamlText));
        }
        catch (YamlException e)
        {
            throw new ConfigException(path, [$"line {e.Start.Line}: not valid YAML: {e.InnerException?.Message ?? e.Message}"]);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException(path, [$"expected one YAML document holding a {Kind} mapping"]);

        var r = new KubeProxyYamlReader();
        var fields = r.Entries(root, "", TopLevelFields);
        CheckTypeMeta(r, root, fields, path);

        var warnings = new List<string>();
        string mode = Text(r, fields, "mode") ?? "";
        if (mode is not ("" or "ipvs"))
            warnings.Add($"mode is \"{mode}\": xdplb implements kube-proxy's ipvs mode and reads the ipvs settings of this file");

        // kube-proxy tells pod traffic from other traffic by clusterCIDR unless told otherwise;
        // xdplb only by clusterCIDR.
        string detectLocal = Text(r, fields, "detectLocalMode") ?? "";
        if (detectLocal is not ("" or "ClusterCIDR"))
            warnings.Add($"detectLocalMode is \"{detectLocal}\": xdplb tells pod traffic by clusterCIDR only; ClusterIP traffic from outside clusterCIDR is masqueraded");

        var ipvs = Section(r, fields, "ipvs", IpvsFields);
        var settings = new ProxySettings();
        var (scheduler, flags) = ReadScheduler(r, ipvs);
        settings = settings with
        {
            Scheduler = scheduler,
            SchedulerFlags = flags,
            Sync = ReadSync(r, ipvs, fields, settings.Sync),
            Timeouts = ReadTimeouts(r, ipvs, settings.Timeouts),
            ExcludeCidrs = ipvs.TryGetValue("excludeCIDRs", out var ex) ? CidrList(r, ex, "ipvs.excludeCIDRs") : [],
            StrictArp = ipvs.TryGetValue("strictARP", out var sa) && (r.Boolean(sa, "ipvs.strictARP") ?? false),
            ClusterCidrs = ReadClusterCidrs(r, fields),
            MasqueradeAll = ReadMasqueradeAll(r, fields, mode),
            HostnameOverride = Text(r, fields, "hostnameOverride")?.Trim().ToLowerInvariant() is { Length: > 0 } host ? host : null,
            HealthzBindAddress = ReadHealthzBindAddress(r, fields),
            Warnings = warnings,
        };
        settings = ReadNodePortAddresses(r, fields, settings);

        if (r.Errors.Count > 0)
            throw new ConfigException(path, [.. r.Errors.OrderBy(LineOf)]);
        return settings;
    }

    /// <summary>The line an error message starts with ("line N: ..."), to list errors in file order.</summary>
    private static int LineOf(string error) =>
        error.StartsWith("line ", StringComparison.Ordinal) && int.TryParse(error.AsSpan(5, error.IndexOf(':') - 5), CultureInfo.InvariantCulture, out int line)
            ? line : 0;

    private static void CheckTypeMeta(KubeProxyYamlReader r, YamlMappingNode root, Dictionary<string, YamlNode> fields, string path)
    {
        var errors = new List<string>();
        foreach (var (field, expected) in new[] { ("apiVersion", ApiVersion), ("kind", Kind) })
        {
            if (!fields.TryGetValue(field, out var node))
                errors.Add($"line {root.Start.Line}: {field}: missing (expected \"{expected}\")");
            else if (r.String(node, field) is { } value && value != expected)
                errors.Add($"line {node.Start.Line}: {field}: \"{value}\" is not \"{expected}\"");
        }
        // With another apiVersion or kind the rest of the file follows another schema: its
        // field errors would only hide the real problem.
        if (errors.Count > 0)
            throw new ConfigException(path, errors);
    }

    private static string? Text(KubeProxyYamlReader r, Dictionary<string, YamlNode> fields, string key) =>
        fields.TryGetValue(key, out var node) ? r.String(node, key) : null;

    private static Dictionary<string, YamlNode> Section(KubeProxyYamlReader r, Dictionary<string, YamlNode> fields, string key, IReadOnlySet<string>? known) =>
        fields.TryGetValue(key, out var node) && r.Mapping(node, key) is { } mapping ? r.Entries(mapping, key, known) : [];

    private static (Scheduler, IReadOnlyList<SchedulerFlag>) ReadScheduler(KubeProxyYamlReader r, Dictionary<string, YamlNode> ipvs)
    {
        if (!ipvs.TryGetValue("scheduler", out var node) || r.String(node, "ipvs.scheduler") is not { Length: > 0 } name)
            return (Scheduler.Rr, []);
        var supported = Enum.GetValues<Scheduler>();
        foreach (var scheduler in supported)
        {
            if (Names.Of(scheduler) == name)
                return (scheduler, scheduler == Scheduler.Mh ? [SchedulerFlag.MhPort] : []);
        }
        string valid = string.Join(", ", supported.Select(Names.Of));
        string note = name is "lblc" or "lblcr" ? " (kube-proxy accepts it; xdplb does not implement it)" : "";
        r.Error(node, "ipvs.scheduler", $"\"{name}\" is not a supported IPVS scheduler{note}; valid: {valid}, or empty for rr");
        return (Scheduler.Rr, []);
    }

    private static SyncSettings ReadSync(KubeProxyYamlReader r, Dictionary<string, YamlNode> ipvs, Dictionary<string, YamlNode> top, SyncSettings defaults)
    {
        // 0 is what kubeadm writes for "unset", so it falls through to the next source.
        (TimeSpan Value, YamlNode Node, string Path)? Pick(string key)
        {
            foreach (var (section, prefix) in new[] { (ipvs, "ipvs."), (top, "") })
            {
                if (section.TryGetValue(key, out var node) && r.Duration(node, prefix + key) is { } value)
                {
                    if (value < TimeSpan.Zero)
                        r.Error(node, prefix + key, $"\"{((YamlScalarNode)node).Value}\" is negative");
                    else if (value > TimeSpan.Zero)
                        return (value, node, prefix + key);
                }
            }
            return null;
        }
        var sync = Pick("syncPeriod");
        var minSync = Pick("minSyncPeriod");
        var result = defaults with
        {
            SyncPeriod = sync?.Value ?? defaults.SyncPeriod,
            MinSyncPeriod = minSync?.Value ?? defaults.MinSyncPeriod,
        };
        if (result.MinSyncPeriod > result.SyncPeriod)
        {
            // Only reachable with a value from the file: the defaults are in order.
            var (_, node, path) = sync ?? minSync!.Value;
            r.Error(node, path, $"syncPeriod {result.SyncPeriod.TotalSeconds}s is shorter than minSyncPeriod {result.MinSyncPeriod.TotalSeconds}s");
        }
        return result;
    }

    private static Timeouts ReadTimeouts(KubeProxyYamlReader r, Dictionary<string, YamlNode> ipvs, Timeouts defaults)
    {
        uint? Seconds(string key)
        {
            string path = "ipvs." + key;
            if (!ipvs.TryGetValue(key, out var node) || r.Duration(node, path) is not { } value)
                return null;
            string text = ((YamlScalarNode)node).Value ?? "";
            if (value < TimeSpan.Zero || value.TotalSeconds > MaxTimeoutSeconds)
            {
                r.Error(node, path, $"\"{text}\" is out of range (0s to {MaxTimeoutSeconds}s)");
                return null;
            }
            // kube-proxy hands IPVS whole seconds (truncated), and 0 leaves the timeout as it is.
            uint seconds = (uint)value.TotalSeconds;
            return seconds == 0 ? null : seconds;
        }
        return defaults with
        {
            Tcp = Seconds("tcpTimeout") ?? defaults.Tcp,
            TcpFin = Seconds("tcpFinTimeout") ?? defaults.TcpFin,
            Udp = Seconds("udpTimeout") ?? defaults.Udp,
        };
    }

    private static List<IPNetwork> CidrList(KubeProxyYamlReader r, YamlNode node, string path)
    {
        var result = new List<IPNetwork>();
        var items = r.StringList(node, path) ?? [];
        for (int i = 0; i < items.Count; i++)
        {
            if (CidrText.TryParse(items[i].Text.Trim(), out var network))
                result.Add(network);
            else
                r.Error(items[i].Node, $"{path}[{i}]", $"\"{items[i].Text}\" is not a CIDR (e.g. 10.0.0.0/8 or fd00::/64)");
        }
        return result;
    }

    private static List<IPNetwork> ReadClusterCidrs(KubeProxyYamlReader r, Dictionary<string, YamlNode> fields)
    {
        if (!fields.TryGetValue("clusterCIDR", out var node) || r.String(node, "clusterCIDR") is not { Length: > 0 } text)
            return [];
        var result = new List<IPNetwork>();
        foreach (string part in text.Split(','))
        {
            if (CidrText.TryParse(part.Trim(), out var network))
                result.Add(network);
            else
                r.Error(node, "clusterCIDR", $"{(part == text ? "" : $"\"{part.Trim()}\" in ")}\"{text}\" is not a CIDR (e.g. 10.244.0.0/16 or 10.244.0.0/16,fd00:10:244::/56)");
        }
        if (result.Count == 2 && result[0].BaseAddress.AddressFamily == result[1].BaseAddress.AddressFamily)
            r.Error(node, "clusterCIDR", $"\"{text}\": two CIDRs must be one IPv4 and one IPv6");
        else if (result.Count > 2)
            r.Error(node, "clusterCIDR", $"\"{text}\": at most two CIDRs, one IPv4 and one IPv6");
        return result;
    }

    private static bool ReadMasqueradeAll(KubeProxyYamlReader r, Dictionary<string, YamlNode> fields, string mode)
    {
        // v1alpha1 keeps masqueradeAll in the mode's section: nftables for nftables, iptables otherwise
        // (ipvs mode included), as kube-proxy's conversion reads it.
        string section = mode == "nftables" ? "nftables" : "iptables";
        var entries = Section(r, fields, section, known: null);
        return entries.TryGetValue("masqueradeAll", out var node) && (r.Boolean(node, $"{section}.masqueradeAll") ?? false);
    }

    private static IPEndPoint? ReadHealthzBindAddress(KubeProxyYamlReader r, Dictionary<string, YamlNode> fields)
    {
        IPAddress defaultHost = IPAddress.Any;
        if (fields.TryGetValue("bindAddress", out var bindNode) && r.String(bindNode, "bindAddress") is { Length: > 0 } bindText)
        {
            if (!TryParseIp(bindText, out var bind))
                r.Error(bindNode, "bindAddress", $"\"{bindText}\" is not an IP address");
            else if (bind.AddressFamily == AddressFamily.InterNetworkV6)
                defaultHost = IPAddress.IPv6Any;
        }
        if (!fields.TryGetValue("healthzBindAddress", out var node) || r.String(node, "healthzBindAddress") is not { Length: > 0 } text)
            return new IPEndPoint(defaultHost, HealthzPort);
        if (TryParseHostPort(text, out var endpoint))
            return endpoint;
        r.Error(node, "healthzBindAddress", $"\"{text}\" is not IP:port, IP (port {HealthzPort}), [IPv6]:port or :port");
        return null;
    }

    /// <summary>Go's SplitHostPort, with kube-proxy's AppendPortIfNeeded for a bare IP; an empty host is every address.</summary>
    private static bool TryParseHostPort(string text, out IPEndPoint endpoint)
    {
        endpoint = null!;
        string host;
        string? portText = null;
        if (TryParseIp(text, out var bare))
        {
            endpoint = new IPEndPoint(bare, HealthzPort);
            return true;
        }
        if (text.StartsWith('['))
        {
            int close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
                return false;
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!host.Contains(':'))
                return false;
        }
        else
        {
            int colon = text.IndexOf(':');
            if (colon < 0 || colon != text.LastIndexOf(':'))
                return false;
            host = text[..colon];
            portText = text[(colon + 1)..];
        }
        if (!ushort.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out ushort port) || port == 0)
            return false;
        IPAddress address = IPAddress.Any;
        if (host.Length > 0 && !TryParseIp(host, out address))
            return false;
        endpoint = new IPEndPoint(address, port);
        return true;
    }

    private static bool TryParseIp(string text, out IPAddress address)
    {
        // IPAddress.TryParse also takes "10", "10.1", zones and "[::1]:80" (dropping the port);
        // Go's ParseIP takes none of them.
        bool ok = IPAddress.TryParse(text, out address!) && text.IndexOfAny(['%', '[', ']']) < 0
            && (address.AddressFamily == AddressFamily.InterNetworkV6 ? text.Contains(':') : text.Count(c => c == '.') == 3);
        return ok;
    }

    private static ProxySettings ReadNodePortAddresses(KubeProxyYamlReader r, Dictionary<string, YamlNode> fields, ProxySettings settings)
    {
        const string path = "nodePortAddresses";
        if (!fields.TryGetValue(path, out var node) || r.StringList(node, path) is not { Count: > 0 } items)
            return settings;
        bool primary = false;
        bool all = false;
        var cidrs = new List<IPNetwork>();
        for (int i = 0; i < items.Count; i++)
        {
            string text = items[i].Text.Trim();
            switch (text)
            {
                case "primary":
                    primary = true;
                    break;
                // Newer kube-proxy's keywords: 'all' is what an empty list means; 'localhost' adds loopback.
                case "all":
                    all = true;
                    break;
                case "localhost":
                    cidrs.Add(new IPNetwork(IPAddress.Parse("127.0.0.0"), 8));
                    cidrs.Add(new IPNetwork(IPAddress.IPv6Loopback, 128));
                    break;
                default:
                    if (CidrText.TryParse(text, out var network))
                        cidrs.Add(network);
                    else
                        r.Error(items[i].Node, $"{path}[{i}]", $"\"{items[i].Text}\" is not a CIDR or \"primary\"");
                    break;
            }
        }
        if (primary && items.Count > 1)
        {
            r.Error(node, path, "\"primary\" must be the only entry (it cannot be combined with CIDRs)");
            return settings;
        }
        return settings with { NodePortPrimaryOnly = primary, NodePortAddresses = all ? [] : cidrs };
    }
}
