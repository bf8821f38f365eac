using XdpLb.Core.Model;

namespace XdpLb.Core.Reconcile;

/// <summary>What one sync changed.</summary>
public sealed record SyncResult(
    IReadOnlyList<ServiceKey> Added, IReadOnlyList<ServiceKey> Updated, IReadOnlyList<ServiceKey> Removed,
    IReadOnlyList<ServiceKey> Repaired)
{
    public bool Changed => Added.Count + Updated.Count + Removed.Count + Repaired.Count > 0;
}

/// <summary>
/// Brings a dataplane to the desired state by the difference between the two: services
/// that are new or changed are applied, services no longer wanted are removed, unchanged
/// ones are not touched. A full sync (kube-proxy's syncPeriod) also asks the dataplane
/// for drift and re-applies what drifted. Removals go first, so that a service that moved
/// its backends to another service never has both at once.
/// </summary>
public sealed class Reconciler(IDataplane dataplane)
{
    private Timeouts? appliedTimeouts;
    private MasqSettings? appliedMasq;
    private IReadOnlyList<string>? appliedClusterCidrs;

    public SyncResult Sync(LbConfig desired, bool full)
    {
        if (appliedTimeouts != desired.Timeouts)
        {
            dataplane.SetTimeouts(desired.Timeouts);
            appliedTimeouts = desired.Timeouts;
        }
        if (appliedMasq != desired.Masq)
        {
            dataplane.SetMasquerade(desired.Masq);
            appliedMasq = desired.Masq;
        }

        if (appliedClusterCidrs is null || !appliedClusterCidrs.SequenceEqual(desired.ClusterCidrs))
        {
            dataplane.SetClusterCidrs(desired.ClusterCidrs);
            appliedClusterCidrs = desired.ClusterCidrs;
        }

        var wanted = desired.Services.Where(s => s.Key is not null).ToDictionary(s => s.Key!);
        var applied = dataplane.Applied;
        var removed = applied.Keys.Where(k => !wanted.ContainsKey(k)).ToList();
        var added = new List<ServiceKey>();
        var updated = new List<ServiceKey>();
        var repaired = new List<ServiceKey>();
        try
        {
            Apply(wanted, applied, removed, added, updated, repaired, full);
        }
        finally
        {
            dataplane.EndSync();
        }
        return new SyncResult(added, updated, removed, repaired);
    }

    private void Apply(Dictionary<ServiceKey, Service> wanted, IReadOnlyDictionary<ServiceKey, Service> applied, List<ServiceKey> removed,
        List<ServiceKey> added, List<ServiceKey> updated, List<ServiceKey> repaired, bool full)
    {
        foreach (var key in removed)
            dataplane.RemoveService(key);
        foreach (var (key, service) in wanted)
        {
            if (!applied.TryGetValue(key, out var current))
            {
                dataplane.ApplyService(service);
                added.Add(key);
            }
            else if (!ServiceComparer.SameContent(current, service))
            {
                dataplane.ApplyService(service);
                updated.Add(key);
            }
        }

        if (full)
        {
            foreach (var key in dataplane.FindDrift())
            {
                if (!wanted.TryGetValue(key, out var service))
                    continue;
                dataplane.ApplyService(service);
                repaired.Add(key);
            }
        }
    }
}
