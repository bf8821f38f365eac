using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using XdpLb.Kubernetes.Translation;
using XdpLb.Kubernetes.Watch;

namespace XdpLb.Kubernetes;

/// <summary>
/// The watches of Services, EndpointSlices (both without those another proxy owns or that
/// are headless, as kube-proxy selects them) and this node's Node, kept in stores; any change
/// calls <c>changed</c> with the resource's name. Nothing is served until all three have listed once.
/// </summary>
public sealed class KubernetesSource : IDisposable
{
    /// <summary>kube-proxy's selector: services another proxy implements, and headless ones, are not its.</summary>
    public const string ProxiedSelector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless";
    public const string TriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";
    private const int PageSize = 500;

    private readonly ObjectStore<V1Service> services;
    private readonly ObjectStore<V1EndpointSlice> slices;
    private readonly ObjectStore<V1Node> nodes;
    private readonly ResourceWatcher<V1Service> serviceWatcher;
    private readonly ResourceWatcher<V1EndpointSlice> sliceWatcher;
    private readonly ResourceWatcher<V1Node> nodeWatcher;
    private readonly CancellationTokenSource stop = new();
    private readonly List<Task> running = [];
    private readonly List<DateTime> pendingTriggers = [];
    private readonly Action<string> changed;

    public KubernetesSource(IKubernetes client, string nodeName, ILogger log, Action<string> changed)
    {
        NodeName = nodeName;
        this.changed = changed;
        services = new ObjectStore<V1Service>(_ => changed("services"));
        slices = new ObjectStore<V1EndpointSlice>(OnSliceChanged);
        nodes = new ObjectStore<V1Node>(_ => changed("nodes"));
        int Timeout() => Random.Shared.Next(300, 600); // client-go spreads watch lifetimes over 5-10 min

        serviceWatcher = new ResourceWatcher<V1Service>("services",
            async cancel => await ListAll(page => client.CoreV1.ListServiceForAllNamespacesAsync(
                continueParameter: page, labelSelector: ProxiedSelector, limit: PageSize, cancellationToken: cancel), l => l.Items, l => l.Metadata),
            (rv, onError, cancel) => client.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true,
                labelSelector: ProxiedSelector, resourceVersion: rv, timeoutSeconds: Timeout(), onError: onError, cancellationToken: cancel),
            services, log);
        sliceWatcher = new ResourceWatcher<V1EndpointSlice>("endpointslices",
            async cancel => await ListAll(page => client.DiscoveryV1.ListEndpointSliceForAllNamespacesAsync(
                continueParameter: page, labelSelector: ProxiedSelector, limit: PageSize, cancellationToken: cancel), l => l.Items, l => l.Metadata),
            (rv, onError, cancel) => client.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(allowWatchBookmarks: true,
                labelSelector: ProxiedSelector, resourceVersion: rv, timeoutSeconds: Timeout(), onError: onError, cancellationToken: cancel),
            slices, log);
        string nodeSelector = $"metadata.name={nodeName}";
        nodeWatcher = new ResourceWatcher<V1Node>("nodes",
            async cancel => await ListAll(page => client.CoreV1.ListNodeAsync(
                continueParameter: page, fieldSelector: nodeSelector, limit: PageSize, cancellationToken: cancel), l => l.Items, l => l.Metadata),
            (rv, onError, cancel) => client.CoreV1.WatchListNodeAsync(allowWatchBookmarks: true,
                fieldSelector: nodeSelector, resourceVersion: rv, timeoutSeconds: Timeout(), onError: onError, cancellationToken: cancel),
            nodes, log);
    }

    public string NodeName { get; }

    /// <summary>In-cluster config (the pod's service account) unless a kubeconfig file is given.</summary>
    public static IKubernetes CreateClient(string? kubeconfig)
    {
        if (kubeconfig is null && !KubernetesClientConfiguration.IsInCluster())
            throw new KubernetesSetupException("not running in a pod (no KUBERNETES_SERVICE_HOST or service account token): give --kubeconfig FILE");
        try
        {
            return new k8s.Kubernetes(kubeconfig is null
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            throw new KubernetesSetupException($"{(kubeconfig is null ? "in-cluster config" : "--kubeconfig " + kubeconfig)}: {e.Message}", e);
        }
    }

    public void Start()
    {
        running.Add(Task.Run(() => serviceWatcher.RunAsync(stop.Token)));
        running.Add(Task.Run(() => sliceWatcher.RunAsync(stop.Token)));
        running.Add(Task.Run(() => nodeWatcher.RunAsync(stop.Token)));
    }

    /// <summary>Completes when Services, EndpointSlices and Nodes have each been listed once.</summary>
    public Task Synced => Task.WhenAll(serviceWatcher.Synced, sliceWatcher.Synced, nodeWatcher.Synced);

    public bool IsSynced => Synced.IsCompletedSuccessfully;

    public V1Node? Node => nodes.Get(null, NodeName);

    public int ServiceLists => serviceWatcher.Lists;
    public int SliceLists => sliceWatcher.Lists;
    /// <summary>The newest resourceVersion the services watch has seen (bookmarks included).</summary>
    public string? ServiceResourceVersion => serviceWatcher.ResourceVersion;

    public ClusterSnapshot Snapshot() => ClusterSnapshot.Of(services.Snapshot(), slices.Snapshot());

    /// <summary>
    /// The last-change-trigger-time of the EndpointSlices changed since the last call: when
    /// the change that a sync now programs happened (kubeproxy_network_programming_duration_seconds).
    /// </summary>
    public IReadOnlyList<DateTime> TakeTriggerTimes()
    {
        lock (pendingTriggers)
        {
            var taken = pendingTriggers.ToList();
            pendingTriggers.Clear();
            return taken;
        }
    }

    private void OnSliceChanged(V1EndpointSlice? slice)
    {
        if (slice?.Annotations()?.TryGetValue(TriggerTimeAnnotation, out var text) == true &&
            DateTime.TryParse(text, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            lock (pendingTriggers)
                pendingTriggers.Add(time);
        }
        changed("endpointslices");
    }

    /// <summary>Every page of a list; the first page's resourceVersion is the snapshot's.</summary>
    private static async Task<(IList<T> Items, string? ResourceVersion)> ListAll<T, TList>(Func<string?, Task<TList>> page,
        Func<TList, IList<T>> items, Func<TList, V1ListMeta> meta)
    {
        var all = new List<T>();
        string? token = null, version = null;
        do
        {
            var list = await page(token);
            all.AddRange(items(list) ?? []);
            version ??= meta(list)?.ResourceVersion;
            token = meta(list)?.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(token));
        return (all, version);
    }

    public void Dispose()
    {
        stop.Cancel();
        try
        {
            Task.WaitAll(running.ToArray(), TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Watches end by cancellation; what they threw on the way out is of no use now.
        }
        stop.Dispose();
    }
}
