using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// rr as the data path runs it: the usable backends (weight &gt; 0) in IPVS list order
/// (<see cref="IpvsListOrder"/>) are the slots, and a ticket counter steps through them:
/// pick = slots[ticket % count]. A change of the backend set re-derives the ticket from
/// ip_vs_rr's cursor rules, so the sequence continues exactly as IPVS's would.
/// </summary>
public static class RoundRobin
{
    /// <summary>Indices into <paramref name="listOrder"/> of the dests rr may pick, in pick order.</summary>
    public static IReadOnlyList<int> Slots(IReadOnlyList<Backend> listOrder)
    {
        var slots = new List<int>();
        for (int i = 0; i < listOrder.Count; i++)
            if (listOrder[i].Weight > 0)
                slots.Add(i);
        return slots;
    }

    /// <summary>
    /// The ticket that makes the data path's next pick equal IPVS's after the steps:
    /// the cursor is the dest the last ticket picked; the steps move it as ip_vs_rr does
    /// (a removed cursor dest hands it to its predecessor; adds and weight changes leave it).
    /// </summary>
    public static ulong TicketAfter(IReadOnlyList<Backend> oldListOrder, ulong ticket,
        IReadOnlyList<IpvsListOrder.Step> steps)
    {
        var oldSlots = Slots(oldListOrder);
        Backend? cursor = ticket == 0 || oldSlots.Count == 0 ? null : oldListOrder[oldSlots[(int)((ticket - 1) % (ulong)oldSlots.Count)]];
        var model = IpvsRoundRobinModel.FromState(oldListOrder, cursor);
        IpvsListOrder.Replay(steps, model);
        var newList = model.ListOrder.ToList();
        var next = model.Schedule();
        if (next is null)
            return 0;
        var newSlots = Slots(newList);
        int index = newList.FindIndex(b => b.Address.Equals(next.Address) && b.Port == next.Port);
        return (ulong)newSlots.ToList().IndexOf(index);
    }
}
