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
    private Action? changed;
    private HashSet<string> reported = [];

    private KubernetesStateSource(KubernetesSource source, ProxySettings settings, Func<IReadOnlyList<IPAddress>> localAddresses, KubeProxyMetrics metrics)
    {
        this.source = source;
        this.settings = settings;
        this.localAddresses = localAddresses;
        this.metrics = metrics;
    }

    public string Description => "kubernetes";
    public KubernetesSource Source => source;
    public ProxySettings Settings => settings;
    public TranslationResult? LastResult { get; private set; }

    /// <summary>Connects, and waits until Services, EndpointSlices and the Node have been listed once (kube-proxy's wait for sync).</summary>
    public static KubernetesStateSource Start(RunOptions options, ProxySettings settings, KubeProxyMetrics metrics,
        Func<IReadOnlyList<IPAddress>> localAddresses, CancellationToken cancel)
    {
        string nodeName = options.HostnameOverride ?? settings.HostnameOverride ?? Environment.GetEnvironmentVariable("NODE_NAME")
            ?? throw new UsageException("--kubernetes needs this node's name: --hostname-override NAME or the NODE_NAME environment variable");
        var client = KubernetesSource.CreateClient(options.Kubeconfig);
        KubernetesStateSource? self = null;
        var source = new KubernetesSource(client, nodeName, new AgentSourceLog(), resource =>
        {
            if (resource == "services")
                metrics.ServiceChanges.Inc();
            else if (resource == "endpointslices")
                metrics.EndpointChanges.Inc();
            metrics.LastQueued.Set(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
            self?.changed?.Invoke();
        });
        self = new KubernetesStateSource(source, settings, localAddresses, metrics);
        source.Start();
        Log.Info("kubernetes: waiting for the first list of services, endpointslices and the node", ("node", nodeName),
            ("api", client is k8s.Kubernetes k ? k.BaseUri : null));
        while (!source.Synced.Wait(TimeSpan.FromSeconds(10), cancel))
            Log.Warn("kubernetes: still waiting for the first list", ("node", nodeName));
        if (source.Node is null)
            Log.Warn("kubernetes: no Node object by this name: node addresses, zone and eligibility are unknown", ("node", nodeName));
        return self;
    }

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
        var (config, result) = KubernetesDesiredState.Build(source.Snapshot(), source.NodeName, source.Node, settings, localAddresses(),
            new Limits(), sctpSupported: dataplane != "xdp");
        LastResult = result;
        var now = result.Problems.Concat(result.Skipped).ToHashSet();
        foreach (var line in result.Problems.Where(p => !reported.Contains(p)))
            Log.Warn("kubernetes: object left out", ("problem", line));
        foreach (var line in result.Skipped.Where(p => !reported.Contains(p)))
            Log.Info("kubernetes: service not proxied", ("reason", line));
        reported = now;
        metrics.NoLocalEndpoints.WithLabels("internal").Set(result.NoLocalEndpointsInternal);
        metrics.NoLocalEndpoints.WithLabels("external").Set(result.NoLocalEndpointsExternal);
        return config;
    }

    public void Watch(Action changed) => this.changed = changed;

    public void AfterSync(bool succeeded)
    {
        if (!succeeded)
            return;
        var now = DateTime.UtcNow;
        foreach (var trigger in source.TakeTriggerTimes())
            metrics.NetworkProgramming.Observe(Math.Max(0, (now - trigger).TotalSeconds));
    }

    public void Dispose() => source.Dispose();

    private sealed class AgentSourceLog : ISourceLog
    {
        public void Info(string message, params (string Key, object? Value)[] fields) => Log.Info(message, fields);
        public void Warn(string message, params (string Key, object? Value)[] fields) => Log.Warn(message, fields);
    }
}
