using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;

namespace XdpLb.Agent;

/// <summary>What differs between the XDP and IPVS dataplanes around the shared sync loop.</summary>
internal interface ISyncHooks
{
    /// <summary>"xdp" or "ipvs", as status, list and metrics show it.</summary>
    string Name { get; }
    IDataplane Dataplane { get; }
    /// <summary>Node state re-read at each full sync (VLAN devices).</summary>
    void BeforeFullSync();
    void AfterSync(LbConfig config, bool changed);
    /// <summary>Each second, under the dataplane's lock.</summary>
    void Sweep(LbConfig config, int sweepNumber);
    void LogStats(ILogger log);
    /// <summary>A backend's active + inactive connections now, under the dataplane's lock.</summary>
    long Connections(ServiceKey key, Backend backend);
}
