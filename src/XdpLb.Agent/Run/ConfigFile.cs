using XdpLb.Bpf;
using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>The YAML config file (--config): read and checked as a whole, every problem named.</summary>
internal static class ConfigFile
{
    /// <summary>The services' file, which the agent re-reads whenever it is written.</summary>
    public static LbConfig Read(string path, bool checkXdpSupport = true)
    {
        string text = ReadText(path);
        // A file rewritten in place is empty for a moment; taking that moment as "no services"
        // would drop every service until the next write. An empty file is therefore an error.
        if (string.IsNullOrWhiteSpace(text))
            throw new ConfigException(path, ["the config file is empty (to serve no services, write `services: []`)"]);
        return Parse(path, text, checkXdpSupport);
    }

    private static string ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(path, [$"cannot read the config file: {e.Message}"]);
        }
    }

    private static LbConfig Parse(string path, string text, bool checkXdpSupport)
    {
        var config = ConfigParser.Parse(text, path);
        var unsupported = checkXdpSupport ? XdpDataplaneSupport.Unsupported(config) : [];
        if (unsupported.Count > 0)
            throw new ConfigException(path, unsupported);
        return config;
    }

    /// <summary>
    /// With --kubernetes, --config gives what Kubernetes does not: the map sizes (limits) and
    /// masq's port range. Services come from the cluster, timeouts and sync periods from the
    /// kube-proxy config: in this file they are an error rather than silently ignored.
    /// </summary>
    /// <remarks>Read once at start and holding no services, so an empty file is all defaults, as before.</remarks>
    public static LbConfig ReadNodeConfig(string path)
    {
        var config = Parse(path, ReadText(path), checkXdpSupport: true);
        var defaults = new LbConfig();
        var errors = new List<string>();
        if (config.Services.Count > 0)
            errors.Add("services: with --kubernetes the services come from the cluster; this file may hold limits and masq only");
        if (config.Timeouts != defaults.Timeouts || config.Sync != defaults.Sync)
            errors.Add("timeouts, sync: with --kubernetes they come from the kube-proxy config (--kube-proxy-config: ipvs.tcpTimeout, ipvs.syncPeriod, ...)");
        if (config.ClusterCidrs.Count > 0)
            errors.Add("clusterCidrs: with --kubernetes it is the kube-proxy config's clusterCIDR");
        if (errors.Count > 0)
            throw new ConfigException(path, errors);
        return config;
    }
}
