using XdpLb.Bpf;
using XdpLb.Core.Config;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Agent;

/// <summary>
/// The loaded data path and the config it serves, kept in sync like kube-proxy: changes
/// (SIGHUP, the file changing) are batched within minSyncPeriod, and a full resync every
/// syncPeriod repairs drift. Every touch of the maps (sync, expiry sweep, the stats read
/// at shutdown) runs under one lock, one at a time. After every sync the dataplane's
/// state is saved in --state-dir for the next agent.
/// </summary>
internal sealed class RunningDataplane : IDisposable
{
    private readonly object gate = new();
    private readonly XdpLbProgram program;
    private readonly XdpDataplane dataplane;
    private readonly Reconciler reconciler;
    private readonly string configFile;
    private readonly string stateFile;
    private readonly AutoResetEvent wake = new(false);
    private readonly Thread loop;
    private volatile bool stopping;
    private volatile bool reloadRequested;
    private DateTime lastSync = DateTime.MinValue;
    private DateTime lastFullSync;

    private readonly AgentMetrics metrics;

    private readonly Func<IReadOnlyList<System.Net.IPAddress>> nodeAddresses;

    public RunningDataplane(XdpLbProgram program, XdpDataplane dataplane, LbConfig config, string configFile, string stateFile,
        AgentMetrics metrics, Func<IReadOnlyList<System.Net.IPAddress>> nodeAddresses)
    {
        this.nodeAddresses = nodeAddresses;
        this.metrics = metrics;
        this.program = program;
        this.dataplane = dataplane;
        this.configFile = configFile;
        this.stateFile = stateFile;
        reconciler = new Reconciler(dataplane);
        Config = config;
        Sync(full: true);
        lastFullSync = DateTime.UtcNow;
        loop = new Thread(Loop) { IsBackground = true, Name = "xdplb-sync" };
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

    public void Start() => loop.Start();

    /// <summary>Asks for the config file to be re-read; applied within minSyncPeriod of the last sync.</summary>
    public void RequestReload()
    {
        reloadRequested = true;
        wake.Set();
    }

    private void Loop()
    {
        while (!stopping)
        {
            var sync = Config.Sync;
            var untilFull = lastFullSync + sync.SyncPeriod - DateTime.UtcNow;
            wake.WaitOne(untilFull > TimeSpan.Zero ? untilFull : TimeSpan.Zero);
            if (stopping)
                return;
            if (reloadRequested)
            {
                // Batching: several changes within minSyncPeriod make one sync.
                var wait = lastSync + sync.MinSyncPeriod - DateTime.UtcNow;
                if (wait > TimeSpan.Zero)
                    Thread.Sleep(wait);
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
    /// Re-reads the config file and applies it. An invalid file is refused as a whole and
    /// the running state stays as it was; so is a change of `limits`, which sizes the maps.
    /// </summary>
    private void Reload()
    {
        LbConfig next;
        try
        {
            next = RunCommand.ReadConfig(configFile);
        }
        catch (ConfigException e)
        {
            Log.Error("config reload refused, the running config stays", ("errors", string.Join("; ", e.Errors)));
            return;
        }
        if (next.Limits != Config.Limits)
        {
            Log.Error("config reload refused: limits size the maps when the program loads; restart xdplb to change them",
                ("running", Config.Limits), ("file", next.Limits));
            return;
        }
        lock (gate)
            Config = next;
        Sync(full: false);
        Log.Info("config reloaded", ("services", next.Services.Count), ("backends", next.Services.Sum(s => s.Backends.Count)));
    }

    private void Sync(bool full)
    {
        lock (gate)
        {
            var started = DateTime.UtcNow;
            try
            {
                if (full)
                    RefreshVlanDevices();
                // NodePort services on the node's addresses as they are now; a full sync follows changes.
                var result = reconciler.Sync(NodePorts.Expand(Config, nodeAddresses()), full);
                if (result.Changed)
                    dataplane.ExportState().Save(stateFile);
                NeighborPrimer.Prime(NeighborPrimer.DirectBackends(Config));
                lastSync = DateTime.UtcNow;
                LastSyncSucceeded = true;
                metrics.SyncDuration.WithLabels(full ? "full" : "partial").Observe((lastSync - started).TotalSeconds);
                if (result.Changed)
                    Log.Info(full ? "full sync" : "sync", ("added", result.Added.Count), ("updated", result.Updated.Count),
                        ("removed", result.Removed.Count), ("repaired", result.Repaired.Count),
                        ("seconds", (lastSync - started).TotalSeconds.ToString("F4")));
            }
            catch (Exception e) when (e is BpfException or IOException or InvalidOperationException)
            {
                LastSyncSucceeded = false;
                metrics.SyncErrors.Inc();
                Log.Error("sync failed; the next sync retries", ("error", e.Message));
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
            dataplane.Collector.CollectExpired();
            // Every 10 s: neighbour entries of dr backends go stale without traffic from the stack.
            if (sweeps++ % 10 == 0)
                NeighborPrimer.Prime(NeighborPrimer.DirectBackends(Config));
        }
        catch (Exception e) when (e is BpfException or ObjectDisposedException)
        {
            Log.Warn("connection expiry sweep failed", ("error", e.Message));
        }
        finally
        {
            Monitor.Exit(gate);
        }
    }

    public void LogStats()
    {
        lock (gate)
        {
            // The same reading `xdplb list --stats` shows; a service's figures are its backends' summed.
            foreach (var s in XdpStatusReader.Services(program, dataplane, _ => new Core.Status.TrafficCounters()))
            {
                var service = new ServiceKey(s.Address, s.Port, s.Protocol);
                foreach (var d in s.RealServers)
                    Log.Info("backend stats", ("service", service), ("backend", new Backend(d.Address, d.Port)), ("conns", d.Stats.Conns),
                        ("active", d.ActiveConns), ("inactive", d.InactiveConns), ("packets_in", d.Stats.InPackets),
                        ("packets_out", d.Stats.OutPackets), ("bytes_in", d.Stats.InBytes), ("bytes_out", d.Stats.OutBytes));
                Log.Info("service stats", ("service", service), ("conns", s.Stats.Conns),
                    ("active", s.RealServers.Sum(d => (long)d.ActiveConns)), ("inactive", s.RealServers.Sum(d => (long)d.InactiveConns)),
                    ("packets_in", s.Stats.InPackets), ("packets_out", s.Stats.OutPackets), ("bytes_in", s.Stats.InBytes), ("bytes_out", s.Stats.OutBytes));
            }
            var fields = program.ReadCounters().Where(c => c.Value > 0)
                .Select(c => (Bpf.Btf.BtfNames.SnakeCase(c.Key.ToString()), (object?)c.Value)).ToArray();
            Log.Info("data path counters", fields);
        }
    }

    public void Dispose()
    {
        stopping = true;
        wake.Set();
        if (loop.IsAlive)
            loop.Join();
        wake.Dispose();
    }

    // VLAN devices come and go with the node's configuration: re-read at each full sync.
    private void RefreshVlanDevices()
    {
        try
        {
            dataplane.SetVlanDevices(VlanDevices.Read());
        }
        catch (FormatException e)
        {
            Log.Error("VLAN devices not read; frames routed to one leave its parent untagged", ("error", e.Message));
        }
    }
}
