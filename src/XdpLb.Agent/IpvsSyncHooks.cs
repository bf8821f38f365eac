using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;
using XdpLb.Ipvs;

namespace XdpLb.Agent;

/// <summary>The IPVS dataplane's part of the loop: the kernel expires connections and keeps the counters.</summary>
internal sealed class IpvsSyncHooks(IpvsDataplane dataplane) : ISyncHooks
{
    public string Name => "ipvs";
    public IDataplane Dataplane => dataplane;
    public IpvsDataplane Ipvs => dataplane;

    public void BeforeFullSync()
    {
    }

    public void AfterSync(LbConfig config, bool changed)
    {
    }

    public void Sweep(LbConfig config, int sweepNumber)
    {
    }

    public long Connections(ServiceKey key, Backend backend) => dataplane.Connections(key, backend);

    public void LogStats(ILogger log) => StatsLog.Write(log, IpvsStatus.Services(dataplane));

    /// <summary>--detach-on-exit: every virtual server xdplb owns goes, and its nftables table and dummy interface.</summary>
    public void RemoveAll()
    {
        foreach (var key in dataplane.Applied.Keys.ToList())
            dataplane.RemoveService(key);
        dataplane.RemoveHostState();
    }
}
