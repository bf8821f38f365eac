using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// A reference model of the kernel's ip_vs_rr.c, written from its source (docs/ipvs.md
/// §1.1, §2.1), used to check the data path's choices. Dests are added at the head of the
/// service's list; the cursor starts at the list head; a pick tries the dests in circular
/// order after the cursor (the cursor's own dest last) and takes the first with weight
/// &gt; 0. Removing the cursor's dest moves the cursor to its predecessor.
/// </summary>
public sealed class IpvsRoundRobinModel : IpvsListOrder.IDestHooks
{
    // Index 0 is the head of the kernel's list: the newest dest.
    private readonly List<Backend> list = [];
    // -1 is the list head itself, otherwise the index of the dest last chosen.
    private int cursor = -1;

    public IReadOnlyList<Backend> ListOrder => list;

    /// <summary>The dest last chosen, or null while the cursor is at the list head.</summary>
    public Backend? Cursor => cursor < 0 ? null : list[cursor];

    /// <summary>A model in a given state: dests in list order, cursor on a dest or at the head.</summary>
    public static IpvsRoundRobinModel FromState(IReadOnlyList<Backend> listOrder, Backend? cursor)
    {
        var model = new IpvsRoundRobinModel();
        model.list.AddRange(listOrder);
        model.cursor = cursor is null ? -1 : model.IndexOf(cursor);
        return model;
    }

    public void Add(Backend backend)
    {
        list.Insert(0, backend);
        if (cursor >= 0)
            cursor++;
    }

    public void Remove(Backend backend)
    {
        int i = IndexOf(backend);
        if (i < 0)
            throw new ArgumentException($"{backend} is not a dest", nameof(backend));
        list.RemoveAt(i);
        if (cursor == i)
            cursor = i - 1; // the predecessor, or the head
        else if (cursor > i)
            cursor--;
    }

    public void SetWeight(Backend backend, ushort weight)
    {
        int i = IndexOf(backend);
        if (i < 0)
            throw new ArgumentException($"{backend} is not a dest", nameof(backend));
        list[i] = list[i] with { Weight = weight };
    }

    // Dests are identified by address and port, as in IPVS; the weight may have changed.
    private int IndexOf(Backend backend) => list.FindIndex(b => b.Address.Equals(backend.Address) && b.Port == backend.Port);

    public Backend? Schedule()
    {
        int n = list.Count;
        for (int step = 1; step <= n; step++)
        {
            int i = ((cursor + step) % n + n) % n;
            if (list[i].Weight > 0)
            {
                cursor = i;
                return list[i];
            }
        }
        return null;
    }
}
