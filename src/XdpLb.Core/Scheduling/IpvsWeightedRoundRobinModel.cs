using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// A step-for-step model of the kernel's ip_vs_wrr.c (docs/ipvs.md §1.1, §2.2), used to check the data
/// path's choices. The cycle a service runs depends on its history, not just its weights: every
/// add, delete and weight edit runs the dest_changed hook, which resets the cursor to the list
/// head and may keep or adjust the current weight. So a service built one dest at a time (as
/// ipvsadm and kube-proxy do) starts at a different point of the cycle than one built at once;
/// replay the same operations to reproduce a kernel (docs/ipvs.md §8.3).
/// </summary>
/// <remarks>Dests are identified by address and port, as IPVS does; the weight is not part of it.</remarks>
public sealed class IpvsWeightedRoundRobinModel : IpvsListOrder.IDestHooks
{
    // Index 0 is the head of the kernel's list: the newest dest.
    private readonly List<Backend> list = [];

    // ip_vs_wrr_init_svc on an empty service: cl = head, di = 1, mw = 0, cw = mw.
    private int cursor = -1;
    private int cw;
    private int mw;
    private int di = 1;

    public IReadOnlyList<Backend> ListOrder => list;

    /// <summary>cw: the weight a dest needs to be picked in the current pass.</summary>
    public int CurrentWeight => cw;

    /// <summary>cl: -1 for the list head, otherwise the list index of the dest last chosen.</summary>
    public int Cursor => cursor;

    /// <summary>mw: the largest weight minus (di - 1); 0 when every weight is 0.</summary>
    public int MaxWeight => mw;

    /// <summary>di: the gcd of the positive weights, or 1 when there are none.</summary>
    public int WeightStep => di;

    /// <summary>
    /// A model in a given state, e.g. read back from the data path: dests in list order, the
    /// cursor (-1: head) and cw; mw and di follow from the weights, as the kernel keeps them.
    /// </summary>
    public static IpvsWeightedRoundRobinModel FromState(IReadOnlyList<Backend> listOrder, int cursor, int currentWeight)
    {
        var model = new IpvsWeightedRoundRobinModel();
        model.list.AddRange(listOrder);
        model.di = model.GcdWeight();
        model.mw = model.list.Aggregate(0, (max, b) => Math.Max(max, (int)b.Weight)) - (model.di - 1);
        model.cursor = cursor;
        model.cw = currentWeight;
        return model;
    }

    /// <summary>__ip_vs_update_dest(add): insert at the head, then the add_dest hook.</summary>
    public void Add(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (IndexOf(backend) >= 0)
            throw new ArgumentException($"{backend} is already a dest", nameof(backend));
        list.Insert(0, backend);
        DestChanged();
    }

    /// <summary>__ip_vs_unlink_dest: unlink, then the del_dest hook.</summary>
    public void Remove(Backend backend)
    {
        list.RemoveAt(Find(backend));
        DestChanged();
    }

    /// <summary>An edit: set the weight, then the upd_dest hook (it runs even if the weight is unchanged).</summary>
    public void SetWeight(Backend backend, ushort weight)
    {
        int i = Find(backend);
        list[i] = list[i] with { Weight = weight };
        DestChanged();
    }

    /// <summary>ip_vs_wrr_schedule; null when no dest may take the connection.</summary>
    public Backend? Schedule()
    {
        if (mw == 0)
            return null; // err_noavail: the cursor stays where it was

        int last = cursor;
        int stop = int.MinValue; // no stop dest yet
        bool lastPass = false, restarted = false;
        int i = cursor;
        while (true)
        {
            // list_for_each_entry_continue: the dests after i, up to the list end.
            for (i++; i < list.Count; i++)
            {
                if (list[i].Weight >= cw)
                {
                    cursor = i;
                    return list[i];
                }
                if (i == stop)
                {
                    cursor = i; // err_over leaves cl on the stop dest
                    return null;
                }
            }
            i = -1; // the walk passed the end: dest is the head
            cw -= di;
            if (cw <= 0)
            {
                cw = mw;
                // Either the last pass already ran, or the only pass for w >= 1 started at the head.
                if (lastPass || last == -1)
                {
                    cursor = -1;
                    return null;
                }
                restarted = true;
            }
            lastPass = cw <= di;
            if (lastPass && restarted && last != -1)
                stop = last;
        }
    }

    // ip_vs_wrr_dest_changed.
    private void DestChanged()
    {
        cursor = -1;
        di = GcdWeight();
        mw = list.Aggregate(0, (max, b) => Math.Max(max, (int)b.Weight)) - (di - 1);
        if (cw > mw || cw == 0)
            cw = mw;
        else if (di > 1)
            cw = cw / di * di + 1;
    }

    private int GcdWeight()
    {
        int g = 0;
        foreach (var b in list)
        {
            int w = b.Weight;
            if (w <= 0)
                continue;
            if (g == 0)
            {
                g = w;
                continue;
            }
            while (w != 0)
                (g, w) = (w, g % w);
        }
        return g > 0 ? g : 1;
    }

    private int IndexOf(Backend backend) =>
        list.FindIndex(b => b.Address.Equals(backend.Address) && b.Port == backend.Port);

    private int Find(Backend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        int i = IndexOf(backend);
        if (i < 0)
            throw new ArgumentException($"{backend} is not a dest", nameof(backend));
        return i;
    }
}
