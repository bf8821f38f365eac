using Microsoft.Extensions.Logging;
using XdpLb.Api.Controller;
using XdpLb.Core.Config;
using XdpLb.Core.Logging;
using XdpLb.Core.Model;
using XdpLb.Kubernetes;

namespace XdpLb.Agent;

/// <summary>Where `xdplb run` reads what to serve: the config file or the cluster, plus the services declared over the API.</summary>
internal static class DesiredState
{
    /// <summary>
    /// Opens the sources. With --kubernetes and no --interface, the options come back with the
    /// interfaces that hold the Node's addresses.
    /// </summary>
    public static CompositeStateSource Open(ref RunOptions options, AgentMetrics metrics, ILoggerFactory loggers, CancellationToken cancel)
    {
        var log = loggers.CreateLogger(typeof(DesiredState));
        // The API's services are read before the first sync, so that a restart never withdraws one.
        var declared = OpenDeclared(options, log);
        return new CompositeStateSource(OpenSource(ref options, metrics, loggers, log, cancel), declared, loggers.CreateLogger<CompositeStateSource>());
    }

    /// <summary>The services declared over the API, as the last agent left them in --state-dir.</summary>
    private static DeclaredServices OpenDeclared(RunOptions options, ILogger log)
    {
        var file = new DeclaredServicesFile(Path.Combine(options.StateDir, RunOptions.ApiStateFile));
        try
        {
            var declared = new DeclaredServices(file);
            int count = declared.Declared().Count;
            if (count > 0)
                log.Info("services declared over the API restored", ("services", count), ("file", file.Path));
            return declared;
        }
        catch (InvalidDataException e)
        {
            throw new ConfigException(file.Path, [e.Message]);
        }
    }

    /// <summary>The config file, or the Kubernetes watches (synced once; --interface defaults to the Node's interfaces).</summary>
    private static IDesiredStateSource OpenSource(ref RunOptions options, AgentMetrics metrics, ILoggerFactory loggers, ILogger log, CancellationToken cancel)
    {
        if (!options.Kubernetes)
            return new FileStateSource(options.ConfigFile!);
        var settings = KubernetesSettings(options, log);
        var node = options.ConfigFile is null ? new LbConfig() : ConfigFile.ReadNodeConfig(options.ConfigFile);
        var interfaces = options.Interfaces;
        var source = KubernetesStateSource.Start(options, settings, node, metrics.KubeProxy, () => NodeAddresses.Of(interfaces),
            loggers.CreateLogger<KubernetesStateSource>(), cancel);
        if (interfaces.Count == 0)
        {
            interfaces = source.NodeInterfaces();
            if (interfaces.Count == 0)
            {
                source.Dispose();
                throw new UsageException("no --interface given and no interface holds the Node's InternalIP/ExternalIP addresses: give --interface IF");
            }
            log.Info("kubernetes: serving the interfaces that hold the Node's addresses", ("interfaces", string.Join(",", interfaces)));
            options = options with { Interfaces = interfaces };
        }
        return source;
    }

    /// <summary>--kube-proxy-config FILE (a KubeProxyConfiguration), else kube-proxy's defaults.</summary>
    private static ProxySettings KubernetesSettings(RunOptions options, ILogger log)
    {
        if (options.KubeProxyConfig is null)
            return new ProxySettings();
        var settings = KubeProxyConfigFile.Load(options.KubeProxyConfig);
        foreach (var warning in settings.Warnings)
            log.Warn("kube-proxy config", ("file", options.KubeProxyConfig), ("note", warning));
        return settings;
    }
}
