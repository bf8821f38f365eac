using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using System.Net;
using XdpLb.Core.Model;
using XdpLb.Kubernetes;
using XdpLb.Kubernetes.Translation;
using XdpLb.Kubernetes.Watch;

namespace XdpLb.Agent;

/// <summary>
/// `xdplb run --kubernetes`: the desired state built from the Services, EndpointSlices and
/// this node's Node that the watches hold, with kube-proxy's settings. Objects that are wrong
/// are logged (once per change of what is wrong) and left out; the rest is served.
/// </summary>
internal sealed class KubernetesStateSource : IDesiredStateSource
{
    private readonly KubernetesSource source;
    private readonly ProxySettings settings;
    private readonly Func<IReadOnlyList<IPAddress>> localAddresses;
    private readonly KubeProxyMetrics metrics;
    private readonly LbConfig nodeConfig;
    private readonly ProxyHealth health;
    private readonly HealthzListener healthz;
    private readonly ILogger log;
    private ServiceHealthServers? serviceHealth;
    private Action? changed;
    private HashSet<string> reported = [];
    private readonly TranslationCache cache = new();
    // Changes seen, and how many of them the last Load included: a change that arrives while
    // the agent starts (before Watch) must still be applied, and health stays pending until it is.
    private long changes;
    private long loadedChanges;

    private KubernetesStateSource(KubernetesSource source, ProxySettings settings, Func<IReadOnlyList<IPAddress>> localAddresses,
        KubeProxyMetrics metrics, ProxyHealth health, IPEndPoint healthzAddress, LbConfig node, ILogger log)
    {
        this.log = log;
        this.nodeConfig = node;
        this.source = source;
        this.settings = settings;
        this.localAddresses = localAddresses;
        this.metrics = metrics;
        this.health = health;
        healthz = new HealthzListener(healthzAddress, health, log);
    }

    public string Description => "kubernetes";
    public KubernetesSource Source => source;
    public ProxySettings Settings => settings;
    public TranslationResult? LastResult { get; private set; }

    /// <summary>Connects, and waits until Services, EndpointSlices and the Node have been listed once (kube-proxy's wait for sync).</summary>
    /// <param name="node">The node's own settings (limits, masq) from --config; its services must be empty.</param>
    public static KubernetesStateSource Start(RunOptions options, ProxySettings settings, LbConfig node, KubeProxyMetrics metrics,
        Func<IReadOnlyList<IPAddress>> localAddresses, ILogger log, CancellationToken cancel)
    {
        // The flag, then the DaemonSet's NODE_NAME (per pod), then the file's (one for every node).
        string nodeName = options.HostnameOverride ?? NonEmpty(Environment.GetEnvironmentVariable("NODE_NAME")) ?? NonEmpty(settings.HostnameOverride)
            ?? throw new UsageException("--kubernetes needs this node's name: --hostname-override NAME or the NODE_NAME environment variable");
        var client = KubernetesSource.CreateClient(options.Kubeconfig);
        KubernetesStateSource? self = null;
        var health = ProxyHealth.ForSyncPeriod(settings.Sync.SyncPeriod);
        var source = new KubernetesSource(client, nodeName, log, resource =>
        {
            health.QueuedUpdate(DateTime.UtcNow);
            if (resource == "services")
                metrics.ServiceChanges.Inc();
            else if (resource == "endpointslices")
                metrics.EndpointChanges.Inc();
            metrics.LastQueued.Set(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
            if (self is not null)
            {
                Interlocked.Increment(ref self.changes);
                self.changed?.Invoke();
            }
        });
        try
        {
            self = new KubernetesStateSource(source, settings, localAddresses, metrics, health,
                options.HealthzAddress ?? settings.HealthzBindAddress ?? new IPEndPoint(IPAddress.Any, 10256), node, log);
            source.Start();
            log.Info("kubernetes: waiting for the first list of services, endpointslices and the node", ("node", nodeName),
                ("api", client is k8s.Kubernetes k ? k.BaseUri : null));
            while (!source.Synced.Wait(TimeSpan.FromSeconds(10), cancel))
                log.Warn("kubernetes: still waiting for the first list", ("node", nodeName));
        }
        catch
        {
            if (self is null)
                source.Dispose();
            self?.Dispose();
            throw;
        }
        if (source.Node is null)
            log.Warn("kubernetes: no Node object by this name: node addresses, zone and eligibility are unknown", ("node", nodeName));
        return self;
    }

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    /// <summary>The interfaces that hold the Node's InternalIP/ExternalIP addresses (the default of --interface).</summary>
    public IReadOnlyList<string> NodeInterfaces()
    {
        var primary = NodeAddressing.Primary(source.Node);
        return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.GetIPProperties().UnicastAddresses.Any(u => primary.Contains(u.Address)))
            .Select(i => i.Name)
            .ToList();
    }

    public LbConfig Load(string dataplane)
    {
        loadedChanges = Interlocked.Read(ref changes);
        var (config, result) = KubernetesDesiredState.Build(source.Snapshot(), source.NodeName, source.Node, settings, localAddresses(),
            nodeConfig.Limits, sctpSupported: dataplane != "xdp", cache);
        config = config with { Masq = nodeConfig.Masq };
        LastResult = result;
        health.SetNodeEligible(source.Node is not { } node || NodeEligibility.IsEligible(node));
        var now = result.Problems.Concat(result.Skipped).ToHashSet();
        foreach (var line in result.Problems.Where(p => !reported.Contains(p)))
            log.Warn("kubernetes: object left out", ("problem", line));
        foreach (var line in result.Skipped.Where(p => !reported.Contains(p)))
            log.Info("kubernetes: service not proxied", ("reason", line));
        reported = now;
        metrics.NoLocalEndpoints.WithLabels("internal").Set(result.NoLocalEndpointsInternal);
        metrics.NoLocalEndpoints.WithLabels("external").Set(result.NoLocalEndpointsExternal);
        metrics.Skipped.Set(result.Skipped.Count);
        metrics.LeftOut.Set(result.Problems.Count);
        return config;
    }

    public void Watch(Action changed)
    {
        this.changed = changed;
        if (Interlocked.Read(ref changes) != loadedChanges)
            changed();
    }

    public void AfterSync(bool succeeded)
    {
        if (!succeeded)
            return;
        var now = DateTime.UtcNow;
        // Healthy means every change seen is applied: not so when one came after the last Load.
        if (Interlocked.Read(ref changes) == loadedChanges)
            health.Updated(now);
        if (LastResult is { } result)
        {
            // kube-proxy binds health check ports on the nodePortAddresses (by default on every
            // address); made at the first sync, when the served interfaces are known.
            serviceHealth ??= new ServiceHealthServers(() => health.IsHealthy(DateTime.UtcNow),
                settings.NodePortAddresses.Count == 0 && !settings.NodePortPrimaryOnly ? null
                    : NodeAddressing.NodePortAddresses(localAddresses(), settings, source.Node));
            var failures = serviceHealth.Sync(result.HealthChecks.ToDictionary(h => h.Service, h => new ServiceHealth(h.Port, h.LocalEndpoints)));
            foreach (var failure in failures)
                log.Warn("kubernetes: health check port not served", ("problem", failure));
        }
        foreach (var trigger in source.TakeTriggerTimes())
            metrics.NetworkProgramming.Observe(Math.Max(0, (now - trigger).TotalSeconds));
    }

    public void Dispose()
    {
        source.Dispose();
        serviceHealth?.Dispose();
        healthz.Dispose();
    }
}
