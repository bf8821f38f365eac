using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// lc, wlc, sed and nq as ip_vs_{lc,wlc,sed,nq}.c do them (docs/ipvs.md §1.4, §2.3–§2.6). They keep no state:
/// each pick is a walk over the dests in list order with the kernel's own arithmetic (int counters,
/// unsigned compare in lc, signed 64-bit cross-multiplication elsewhere) and strict comparisons,
/// so a tie always keeps the dest nearer the list head. Our model has no OVERLOAD flag.
/// </summary>
public static class LeastConnection
{
    /// <summary>A dest's weight and its activeconns / inactconns counters, in list order.</summary>
    public readonly record struct DestLoad(ushort Weight, uint Active, uint Inactive);

    /// <summary>The list index of the dest the scheduler picks, or -1 when none may be picked.</summary>
    public static int Pick(Scheduler scheduler, IReadOnlyList<DestLoad> listOrder)
    {
        ArgumentNullException.ThrowIfNull(listOrder);
        return scheduler switch
        {
            Scheduler.Lc => PickLc(listOrder),
            Scheduler.Wlc => PickWeighted(listOrder, ConnOverhead),
            Scheduler.Sed => PickWeighted(listOrder, ExpectedDelayOverhead),
            Scheduler.Nq => PickNq(listOrder),
            _ => throw new ArgumentOutOfRangeException(nameof(scheduler), scheduler,
                $"{Names.Of(scheduler)} is not a least-connection scheduler"),
        };
    }

    /// <summary>
    /// ip_vs_dest_conn_overhead: (activeconns &lt;&lt; 8) + inactconns in int, which wraps as the
    /// kernel's does (the "&lt;&lt; 5" in lc.c's comment is stale).
    /// </summary>
    public static int ConnOverhead(DestLoad d) => unchecked((int)((d.Active << 8) + d.Inactive));

    /// <summary>ip_vs_sed/nq_dest_overhead: activeconns + 1; inactive connections do not count.</summary>
    public static int ExpectedDelayOverhead(DestLoad d) => unchecked((int)(d.Active + 1));

    // ip_vs_lc_schedule: least overhead among dests with weight != 0; loh/doh are unsigned int.
    private static int PickLc(IReadOnlyList<DestLoad> dests)
    {
        int least = -1;
        uint loh = 0;
        for (int i = 0; i < dests.Count; i++)
        {
            if (dests[i].Weight == 0)
                continue;
            uint doh = unchecked((uint)ConnOverhead(dests[i]));
            if (least < 0 || doh < loh)
            {
                least = i;
                loh = doh;
            }
        }
        return least;
    }

    // ip_vs_wlc/sed_schedule: the first dest with weight > 0, then any later dest with
    // (s64)loh * w(dest) > (s64)doh * w(least). A weight-0 dest makes the left side 0 and never wins.
    private static int PickWeighted(IReadOnlyList<DestLoad> dests, Func<DestLoad, int> overhead)
    {
        int least = 0;
        while (least < dests.Count && dests[least].Weight == 0)
            least++;
        if (least == dests.Count)
            return -1;
        int loh = overhead(dests[least]);
        for (int i = least + 1; i < dests.Count; i++)
        {
            int doh = overhead(dests[i]);
            if (Heavier(loh, dests[i].Weight, doh, dests[least].Weight))
            {
                least = i;
                loh = doh;
            }
        }
        return least;
    }

    // ip_vs_nq_schedule: the first idle dest (activeconns == 0) with weight != 0 at once; otherwise sed.
    private static int PickNq(IReadOnlyList<DestLoad> dests)
    {
        int least = -1;
        int loh = 0;
        for (int i = 0; i < dests.Count; i++)
        {
            if (dests[i].Weight == 0)
                continue;
            int doh = ExpectedDelayOverhead(dests[i]);
            if (dests[i].Active == 0)
                return i;
            if (least < 0 || Heavier(loh, dests[i].Weight, doh, dests[least].Weight))
            {
                least = i;
                loh = doh;
            }
        }
        return least;
    }

    // loh/w(least) > doh/w(dest), without division, in signed 64 bits.
    private static bool Heavier(int loh, ushort destWeight, int doh, ushort leastWeight) =>
        (long)loh * destWeight > (long)doh * leastWeight;
}
