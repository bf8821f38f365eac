using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Bpf;
using XdpLb.Core.Config;
using XdpLb.Ipvs.Netlink;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Agent;

/// <summary>
/// Keeps the loaded data path in sync with the config it serves, as kube-proxy: changes
/// (SIGHUP, the file changing) are batched within minSyncPeriod, and a full resync every
/// syncPeriod repairs drift. Every touch of the dataplane (sync, expiry sweep, the stats
/// read at shutdown) runs under one lock, one at a time. What differs between XDP and IPVS
/// is in its <see cref="ISyncHooks"/>. The loop itself is <see cref="RunAsync"/>, run by <see cref="SyncLoopService"/>.
/// </summary>
internal sealed class SyncLoop
{
    private readonly object gate = new();
    private readonly ISyncHooks syncHooks;
    private readonly Reconciler reconciler;
    private readonly CompositeStateSource source;
    // At most one wake-up pending: several requests before the loop looks are one reload.
    // Never disposed: requests may come from watchers until they are gone, and it holds no handle.
    private readonly SemaphoreSlim wake = new(0, 1);
    private volatile bool reloadRequested;
    private DateTime lastSync = DateTime.MinValue;
    private DateTime lastFullSync;

    private readonly AgentMetrics metrics;
    private readonly ILogger log;

    private readonly Func<IReadOnlyList<System.Net.IPAddress>> nodeAddresses;
    // Kubernetes only: endpoints that go keep their connections (kube-proxy's graceful termination).
    private readonly GracefulTermination? graceful;
    private static readonly TimeSpan DrainCheckPeriod = TimeSpan.FromSeconds(5);

    public SyncLoop(ISyncHooks syncHooks, LbConfig config, CompositeStateSource source,
        AgentMetrics metrics, Func<IReadOnlyList<System.Net.IPAddress>> nodeAddresses, ILogger log)
    {
        this.log = log;
        this.nodeAddresses = nodeAddresses;
        this.metrics = metrics;
        this.syncHooks = syncHooks;
        this.source = source;
        graceful = source.Base is KubernetesStateSource ? new GracefulTermination() : null;
        reconciler = new Reconciler(syncHooks.Dataplane);
        Config = config;
        Sync(full: true);
        lastFullSync = DateTime.UtcNow;
    }

    public LbConfig Config { get; private set; }

    public DateTime LastSync => lastSync;

    /// <summary>False after a sync failed, until one succeeds: /healthz answers 503 meanwhile.</summary>
    public bool LastSyncSucceeded { get; private set; } = true;

    /// <summary>Runs a read of the maps under the lock that every change takes.</summary>
    public T Read<T>(Func<T> read)
    {
        lock (gate)
            return read();
    }

    public void Read(Action read)
    {
        lock (gate)
            read();
    }

    /// <summary>Asks for the desired state to be read again; applied within minSyncPeriod of the last sync.</summary>
    public void RequestReload()
    {
        reloadRequested = true;
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>The sync loop, until <paramref name="stopping"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            var sync = Config.Sync;
            var untilFull = lastFullSync + sync.SyncPeriod - DateTime.UtcNow;
            bool draining = graceful?.Draining.Count > 0;
            var sleep = untilFull > TimeSpan.Zero ? untilFull : TimeSpan.Zero;
            if (draining && sleep > DrainCheckPeriod)
                sleep = DrainCheckPeriod;
            bool woken;
            try
            {
                woken = await wake.WaitAsync(sleep, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            // Draining backends are removed at the first sync that finds them without connections.
            if (!woken && draining && !reloadRequested)
                Sync(full: false);
            if (reloadRequested)
            {
                // Batching: several changes within minSyncPeriod make one sync.
                var wait = lastSync + sync.MinSyncPeriod - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, stopping);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
                reloadRequested = false;
                Reload();
            }
            if (DateTime.UtcNow >= lastFullSync + Config.Sync.SyncPeriod)
            {
                Sync(full: true);
                lastFullSync = DateTime.UtcNow;
            }
        }
    }

    /// <summary>
    /// Reads the desired state again and applies it. An invalid config file is refused as a
    /// whole and the running state stays as it was; so is a change of `limits`, which sizes the maps.
    /// </summary>
    private void Reload()
    {
        LbConfig next;
        try
        {
            next = source.Load(syncHooks.Name);
        }
        catch (ConfigException e)
        {
            log.Error("config reload refused, the running config stays", ("errors", string.Join("; ", e.Errors)));
            return;
        }
        if (next.Limits != Config.Limits)
        {
            log.Error("config reload refused: limits size the maps when the program loads; restart xdplb to change them",
                ("running", Config.Limits), ("file", next.Limits));
            return;
        }
        lock (gate)
            Config = next;
        Sync(full: false);
        log.Info(source.Base is FileStateSource ? "config reloaded" : "desired state read", ("services", next.Services.Count),
            ("backends", next.Services.Sum(s => s.Backends.Count)), ("source", source.Description));
    }

    private void Sync(bool full)
    {
        lock (gate)
        {
            var started = DateTime.UtcNow;
            try
            {
                if (full)
                    syncHooks.BeforeFullSync();
                // NodePort services on the node's addresses as they are now; a full sync follows changes.
                var desired = NodePorts.Expand(Config, nodeAddresses());
                if (graceful is not null)
                    desired = graceful.Apply(desired, syncHooks.Dataplane.Applied, syncHooks.Connections);
                var result = reconciler.Sync(desired, full);
                syncHooks.AfterSync(Config, result.Changed);
                lastSync = DateTime.UtcNow;
                LastSyncSucceeded = true;
                metrics.SyncDuration.WithLabels(full ? "full" : "partial").Observe((lastSync - started).TotalSeconds);
                metrics.KubeProxy.SyncDuration.Observe((lastSync - started).TotalSeconds);
                metrics.KubeProxy.LastSync.Set(new DateTimeOffset(lastSync).ToUnixTimeMilliseconds() / 1000.0);
                source.AfterSync(succeeded: true);
                if (result.Changed)
                    log.Info(full ? "full sync" : "sync", ("added", result.Added.Count), ("updated", result.Updated.Count),
                        ("removed", result.Removed.Count), ("repaired", result.Repaired.Count),
                        ("seconds", (lastSync - started).TotalSeconds.ToString("F4")));
            }
            catch (Exception e) when (e is BpfException or NetlinkException or IOException or InvalidOperationException)
            {
                LastSyncSucceeded = false;
                metrics.SyncErrors.Inc();
                source.AfterSync(succeeded: false);
                log.Error("sync failed; the next sync retries", ("error", e.Message));
            }
        }
    }

    private int sweeps;

    /// <summary>Expires idle connections; a sweep that finds another in progress skips.</summary>
    public void Sweep()
    {
        if (!Monitor.TryEnter(gate))
            return;
        try
        {
            syncHooks.Sweep(Config, sweeps++);
        }
        catch (Exception e) when (e is BpfException or NetlinkException or ObjectDisposedException)
        {
            log.Warn("connection expiry sweep failed", ("error", e.Message));
        }
        finally
        {
            Monitor.Exit(gate);
        }
    }

    public void LogStats()
    {
        lock (gate)
            syncHooks.LogStats(log);
    }
}
