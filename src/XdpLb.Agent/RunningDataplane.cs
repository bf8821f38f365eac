using XdpLb.Bpf;
using XdpLb.Core.Config;
using XdpLb.Core.Model;

namespace XdpLb.Agent;

/// <summary>
/// The loaded data path and the config it serves. Every change to it (reload, expiry
/// sweep, the stats read at shutdown) runs under one lock, one at a time.
/// </summary>
internal sealed class RunningDataplane(XdpLbProgram program, XdpDataplane dataplane, LbConfig config)
{
    private readonly object gate = new();

    public LbConfig Config { get; private set; } = config;

    /// <summary>
    /// Re-reads the config file and applies it. An invalid file is refused as a whole and
    /// the running state stays as it was; so is a change of `limits`, which sizes the maps.
    /// </summary>
    public void Reload(string path)
    {
        lock (gate)
        {
            LbConfig next;
            try
            {
                next = RunCommand.ReadConfig(path);
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
            dataplane.Apply(next);
            Config = next;
            Log.Info("config reloaded", ("services", next.Services.Count), ("backends", next.Services.Sum(s => s.Backends.Count)));
        }
    }

    /// <summary>Expires idle connections; a sweep that finds another in progress skips.</summary>
    public void Sweep()
    {
        if (!Monitor.TryEnter(gate))
            return;
        try
        {
            dataplane.Collector.CollectExpired();
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
            foreach (var service in Config.Services.Where(s => s.Key is not null))
            {
                // A service's figures are its backends' summed, as IPVS's are while no dest was removed.
                var total = default(Bpf.Maps.BackendTraffic);
                uint active = 0, inactive = 0;
                foreach (var backend in service.Backends)
                {
                    uint id = dataplane.BackendId(service.Key!, backend);
                    var traffic = program.ReadTraffic(id);
                    var conns = program.BackendConns[id];
                    total += traffic;
                    active += conns.Active;
                    inactive += conns.Inactive;
                    Log.Info("backend stats", ("service", service.Key), ("backend", backend), ("conns", traffic.Conns),
                        ("active", conns.Active), ("inactive", conns.Inactive), ("packets_in", traffic.PacketsIn),
                        ("packets_out", traffic.PacketsOut), ("bytes_in", traffic.BytesIn), ("bytes_out", traffic.BytesOut));
                }
                Log.Info("service stats", ("service", service.Key), ("conns", total.Conns), ("active", active), ("inactive", inactive),
                    ("packets_in", total.PacketsIn), ("packets_out", total.PacketsOut), ("bytes_in", total.BytesIn), ("bytes_out", total.BytesOut));
            }
            var fields = program.ReadCounters().Where(c => c.Value > 0)
                .Select(c => (Bpf.Btf.BtfNames.SnakeCase(c.Key.ToString()), (object?)c.Value)).ToArray();
            Log.Info("data path counters", fields);
        }
    }
}
