using XdpLb.Core.Model;

namespace XdpLb.Core.Reconcile;

/// <summary>
/// What the reconciler drives: the XDP maps or, on kernels without XDP, IPVS. A dataplane
/// applies one service at a time, so a change of one service touches only its entries.
/// </summary>
public interface IDataplane
{
    /// <summary>The services the dataplane holds now, as they were last applied.</summary>
    IReadOnlyDictionary<ServiceKey, Service> Applied { get; }

    void SetTimeouts(Timeouts timeouts);

    /// <summary>The source ports masq connections are given (masq.portRange).</summary>
    void SetMasquerade(MasqSettings masq);

    /// <summary>The pods' address ranges: clients outside them are masqueraded on masqueradeOutsideCluster services.</summary>
    void SetClusterCidrs(IReadOnlyList<string> cidrs);

    /// <summary>Creates or updates a service with its backends.</summary>
    void ApplyService(Service service);

    void RemoveService(ServiceKey key);

    /// <summary>The applied services whose kernel state no longer matches what was applied (drift).</summary>
    IReadOnlyList<ServiceKey> FindDrift();

    /// <summary>
    /// After a sync's changes, also when one failed: state kept for all services together
    /// (IPVS: the VIPs on the dummy interface, the nftables table) is brought up to date once
    /// per sync, not once per service, which would make a sync of N services cost N².
    /// </summary>
    void EndSync()
    {
    }
}
