using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// rr as the data path runs it: the usable backends (weight &gt; 0) in IPVS list order,
/// newest first (ip_vs_ctl.c adds each dest at the head of the list), stepped through by a
/// cursor. Backends are added in listed order, so the last-listed is picked first.
/// </summary>
public static class RoundRobin
{
    /// <summary>The slots the data path steps through, in pick order.</summary>
    public static IReadOnlyList<int> Slots(IReadOnlyList<Backend> backendsInListedOrder)
    {
        var slots = new List<int>();
        for (int i = backendsInListedOrder.Count - 1; i >= 0; i--)
            if (backendsInListedOrder[i].Weight > 0)
                slots.Add(i);
        return slots;
    }
}
