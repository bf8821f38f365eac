using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Bpf;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Agent;

/// <summary>The XDP dataplane's part of the loop: state file, connection expiry, neighbours, VLAN devices.</summary>
internal sealed class XdpSyncHooks(XdpLbProgram program, XdpDataplane dataplane, string stateFile, ILogger log) : ISyncHooks
{
    public string Name => "xdp";
    public IDataplane Dataplane => dataplane;
    public XdpLbProgram Program => program;
    public XdpDataplane Xdp => dataplane;

    // VLAN devices come and go with the node's configuration: re-read at each full sync.
    public void BeforeFullSync()
    {
        try
        {
            dataplane.SetVlanDevices(VlanDevices.Read());
        }
        catch (FormatException e)
        {
            log.Error("VLAN devices not read; frames routed to one leave its parent untagged", ("error", e.Message));
        }
    }

    public void AfterSync(LbConfig config, bool changed)
    {
        if (changed)
            dataplane.ExportState().Save(stateFile);
        NeighborPrimer.Prime(log, NeighborPrimer.BackendsToPrime(config));
    }

    public void Sweep(LbConfig config, int sweepNumber)
    {
        dataplane.Sweeper.Tick();
        // Every 10 s: neighbour entries go stale without traffic from the stack.
        if (sweepNumber % 10 == 0)
            NeighborPrimer.Prime(log, NeighborPrimer.BackendsToPrime(config));
    }

    public long Connections(ServiceKey key, Backend backend)
    {
        var conns = program.BackendConns[dataplane.BackendId(key, backend)];
        return (long)conns.Active + conns.Inactive;
    }

    public void LogStats(ILogger statsLog)
    {
        // The same reading `xdplb list --stats` shows; a service's figures are its backends' summed.
        StatsLog.Write(statsLog, XdpStatusReader.Services(program, dataplane, _ => new Core.Status.TrafficCounters()));
        var fields = program.ReadCounters().Where(c => c.Value > 0)
            .Select(c => (Bpf.Btf.BtfNames.SnakeCase(c.Key.ToString()), (object?)c.Value)).ToArray();
        statsLog.Info("data path counters", fields);
        statsLog.Info("connection table events", program.ReadConntrackEvents()
            .Select(e => (Bpf.Btf.BtfNames.SnakeCase(e.Key.ToString()), (object?)e.Value)).ToArray());
    }
}
