using System.Net;
using XdpLb.Core.Model;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace XdpLb.Core.Config;

/// <summary>
/// Reads the YAML config file (README.md, "Config file") into an <see cref="LbConfig"/>.
/// Throws <see cref="ConfigException"/> listing every problem; never returns a partial config.
/// </summary>
public static class ConfigParser
{
    public static LbConfig Parse(string yaml, string source = "config")
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ConfigException(source, [$"line {e.Start.Line}: not valid YAML: {e.InnerException?.Message ?? e.Message}"]);
        }

        var reader = new YamlReader();
        var config = new LbConfig();
        if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is not YamlScalarNode { Value: null or "" })
        {
            var root = reader.Mapping(stream.Documents[0].RootNode, "(top level)");
            if (root is not null)
                config = ReadRoot(reader, root);
        }
        var errors = reader.Errors.Concat(ConfigValidator.Validate(config)).ToList();
        if (errors.Count > 0)
            throw new ConfigException(source, errors);
        return config;
    }

    private static LbConfig ReadRoot(YamlReader r, YamlMappingNode root)
    {
        var keys = r.Keys(root, "(top level)", "timeouts", "sync", "limits", "masq", "clusterCidrs", "services");
        var config = new LbConfig();
        if (keys.TryGetValue("timeouts", out var t) && r.Mapping(t, "timeouts") is { } tm)
            config = config with { Timeouts = ReadTimeouts(r, tm) };
        if (keys.TryGetValue("sync", out var s) && r.Mapping(s, "sync") is { } sm)
            config = config with { Sync = ReadSync(r, sm) };
        if (keys.TryGetValue("limits", out var l) && r.Mapping(l, "limits") is { } lm)
            config = config with { Limits = ReadLimits(r, lm) };
        if (keys.TryGetValue("masq", out var m) && r.Mapping(m, "masq") is { } mm)
            config = config with { Masq = ReadMasq(r, mm) };
        if (keys.TryGetValue("clusterCidrs", out var cc) && r.Sequence(cc, "clusterCidrs") is { } cidrs)
            config = config with { ClusterCidrs = cidrs.Children.Select(n => r.Scalar(n, "clusterCidrs")).OfType<string>().ToList() };
        if (keys.TryGetValue("services", out var svcs) && r.Sequence(svcs, "services") is { } seq)
            config = config with { Services = seq.Children.Select((node, i) => ReadService(r, node, i)).OfType<Service>().ToList() };
        return config;
    }

    private static Timeouts ReadTimeouts(YamlReader r, YamlMappingNode node)
    {
        var keys = r.Keys(node, "timeouts", "tcp", "tcpFin", "udp");
        var result = new Timeouts();
        uint? Seconds(string key) => keys.TryGetValue(key, out var v) && r.Duration(v, $"timeouts.{key}", wholeSeconds: true) is { } d
            ? CheckedSeconds(r, v, $"timeouts.{key}", d) : null;
        return result with
        {
            Tcp = Seconds("tcp") ?? result.Tcp,
            TcpFin = Seconds("tcpFin") ?? result.TcpFin,
            Udp = Seconds("udp") ?? result.Udp,
        };
    }

    private static uint? CheckedSeconds(YamlReader r, YamlNode node, string path, TimeSpan d)
    {
        // IPVS rejects timeouts above INT_MAX/HZ; a day-scale ceiling keeps every HZ safe.
        if (d.TotalSeconds is < 1 or > 2_000_000)
        {
            r.Error(node, path, $"{d.TotalSeconds}s is out of range (1s to 2000000s)");
            return null;
        }
        return (uint)d.TotalSeconds;
    }

    private static SyncSettings ReadSync(YamlReader r, YamlMappingNode node)
    {
        var keys = r.Keys(node, "sync", "minSyncPeriod", "syncPeriod");
        var result = new SyncSettings();
        if (keys.TryGetValue("minSyncPeriod", out var min) && r.Duration(min, "sync.minSyncPeriod", wholeSeconds: false) is { } minValue)
            result = result with { MinSyncPeriod = minValue };
        if (keys.TryGetValue("syncPeriod", out var per) && r.Duration(per, "sync.syncPeriod", wholeSeconds: false) is { } perValue)
        {
            if (perValue <= TimeSpan.Zero)
                r.Error(per, "sync.syncPeriod", "must be greater than 0");
            else
                result = result with { SyncPeriod = perValue };
        }
        return result;
    }

    private static Limits ReadLimits(YamlReader r, YamlMappingNode node)
    {
        var keys = r.Keys(node, "limits", "services", "backends", "connections");
        var result = new Limits();
        uint? Read(string key) => keys.TryGetValue(key, out var v) ? (uint?)r.Integer(v, $"limits.{key}", 1, 16_000_000) : null;
        return result with
        {
            Services = Read("services") ?? result.Services,
            Backends = Read("backends") ?? result.Backends,
            Connections = Read("connections") ?? result.Connections,
        };
    }

    private static MasqSettings ReadMasq(YamlReader r, YamlMappingNode node)
    {
        var keys = r.Keys(node, "masq", "portRange");
        if (!keys.TryGetValue("portRange", out var v) || r.Scalar(v, "masq.portRange") is not { } text)
            return new MasqSettings();
        var parts = text.Split('-');
        if (parts.Length == 2 && ushort.TryParse(parts[0], out var first) && ushort.TryParse(parts[1], out var last) && first >= 1 && first <= last)
            return new MasqSettings { PortRange = new PortRange(first, last) };
        r.Error(v, "masq.portRange", $"\"{text}\" is not a port range FIRST-LAST within 1-65535");
        return new MasqSettings();
    }

    private static Service? ReadService(YamlReader r, YamlNode node, int index)
    {
        string path = $"services[{index}]";
        if (r.Mapping(node, path) is not { } map)
            return null;
        // The name goes into every message about this service, so it is read before the rest.
        string? name = map.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: "name" }).Value is { } nameNode
            ? r.Scalar(nameNode, $"{path}.name") : null;
        if (name is not null)
            path = $"services[{index}] \"{name}\"";
        var keys = r.Keys(map, path, "name", "address", "port", "protocol", "scheduler", "flags", "persistence",
            "forwarding", "nodePort", "externalTrafficPolicy", "sourceRanges", "masqueradeOutsideCluster", "backends");

        int errorsBefore = r.Errors.Count;
        IPAddress? address = null;
        if (keys.TryGetValue("address", out var a) && r.Scalar(a, $"{path}.address") is { } addressText)
        {
            if (!IPAddress.TryParse(addressText, out address) || addressText.Contains('/') || addressText.Contains('%'))
            {
                r.Error(a, $"{path}.address", $"\"{addressText}\" is not an IPv4 or IPv6 address");
                address = null;
            }
        }
        ushort? port = null;
        if (keys.TryGetValue("port", out var p))
            port = (ushort?)r.Integer(p, $"{path}.port", 1, 65535);
        else
            r.Error(map, path, "key \"port\" is required");

        var service = new Service { Name = name, Address = address, Port = port ?? 0 };
        if (keys.TryGetValue("protocol", out var proto) && r.Choice<Protocol>(proto, $"{path}.protocol", "protocol") is { } protocol)
            service = service with { Protocol = protocol };
        if (keys.TryGetValue("scheduler", out var sch) && r.Choice<Scheduler>(sch, $"{path}.scheduler", "scheduler") is { } scheduler)
            service = service with { Scheduler = scheduler };
        if (keys.TryGetValue("flags", out var fl) && r.Sequence(fl, $"{path}.flags") is { } flagNodes)
            service = service with { Flags = flagNodes.Children.Select(f => r.Choice<SchedulerFlag>(f, $"{path}.flags", "scheduler flag")).OfType<SchedulerFlag>().ToList() };
        if (keys.TryGetValue("persistence", out var pers) && r.Duration(pers, $"{path}.persistence", wholeSeconds: true) is { } persistence)
        {
            if (persistence.TotalSeconds > 2_000_000)
                r.Error(pers, $"{path}.persistence", $"{persistence.TotalSeconds}s is out of range (0 to 2000000s)");
            else
                service = service with { Persistence = (uint)persistence.TotalSeconds };
        }
        if (keys.TryGetValue("forwarding", out var fw) && r.Choice<Forwarding>(fw, $"{path}.forwarding", "forwarding mode") is { } forwarding)
            service = service with { Forwarding = forwarding };
        if (keys.TryGetValue("nodePort", out var np) && r.Boolean(np, $"{path}.nodePort") is { } nodePort)
            service = service with { NodePort = nodePort };
        if (keys.TryGetValue("externalTrafficPolicy", out var etp) && r.Choice<TrafficPolicy>(etp, $"{path}.externalTrafficPolicy", "traffic policy") is { } policy)
            service = service with { ExternalTrafficPolicy = policy };
        // kube-proxy masquerades NodePort traffic unless externalTrafficPolicy is Local: the
        // backend may be on another node, and its answer must come back through this one.
        if (!keys.ContainsKey("forwarding") && service.NodePort && service.ExternalTrafficPolicy == TrafficPolicy.Cluster)
            service = service with { Forwarding = Forwarding.Masq };
        if (keys.TryGetValue("sourceRanges", out var sr) && r.Sequence(sr, $"{path}.sourceRanges") is { } ranges)
            service = service with { SourceRanges = ranges.Children.Select(n => r.Scalar(n, $"{path}.sourceRanges")).OfType<string>().ToList() };
        if (keys.TryGetValue("masqueradeOutsideCluster", out var moc) && r.Boolean(moc, $"{path}.masqueradeOutsideCluster") is { } outside)
            service = service with { MasqueradeOutsideCluster = outside };
        if (keys.TryGetValue("backends", out var bs) && r.Sequence(bs, $"{path}.backends") is { } backendNodes)
            service = service with { Backends = backendNodes.Children.Select((n, i) => ReadBackend(r, n, $"{path}.backends[{i}]", service.Port)).OfType<Backend>().ToList() };

        return r.Errors.Count == errorsBefore ? service : null;
    }

    private static Backend? ReadBackend(YamlReader r, YamlNode node, string path, ushort servicePort)
    {
        if (r.Mapping(node, path) is not { } map)
            return null;
        var keys = r.Keys(map, path, "address", "port", "weight", "local");
        int errorsBefore = r.Errors.Count;
        IPAddress? address = null;
        if (!keys.TryGetValue("address", out var a))
            r.Error(map, path, "key \"address\" is required");
        else if (r.Scalar(a, $"{path}.address") is { } text && (!IPAddress.TryParse(text, out address) || text.Contains('/') || text.Contains('%')))
            r.Error(a, $"{path}.address", $"\"{text}\" is not an IPv4 or IPv6 address");
        ushort port = keys.TryGetValue("port", out var p) ? (ushort?)r.Integer(p, $"{path}.port", 1, 65535) ?? 0 : servicePort;
        ushort weight = keys.TryGetValue("weight", out var w) ? (ushort?)r.Integer(w, $"{path}.weight", 0, 65535) ?? 0 : (ushort)1;
        bool local = keys.TryGetValue("local", out var l) && (r.Boolean(l, $"{path}.local") ?? false);
        return r.Errors.Count == errorsBefore && address is not null ? new Backend(address, port, weight, local) : null;
    }
}
