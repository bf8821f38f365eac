using XdpLb.Core.Model;

namespace XdpLb.Core.Scheduling;

/// <summary>
/// A reference model of the kernel's ip_vs_rr.c, written from its source (ipvs.md §1.0,
/// §1.1), used to check the data path's choices. Dests are added at the head of the
/// service's list; the cursor starts at the list head; a pick tries the dests in circular
/// order after the cursor (the cursor's own dest last) and takes the first with weight
/// &gt; 0. Removing the cursor's dest moves the cursor to its predecessor.
/// </summary>
public sealed class IpvsRoundRobinModel
{
    // Index 0 is the head of the kernel's list: the newest dest.
    private readonly List<Backend> list = [];
    // -1 is the list head itself, otherwise the index of the dest last chosen.
    private int cursor = -1;

    public IReadOnlyList<Backend> ListOrder => list;

    public void Add(Backend backend)
    {
        list.Insert(0, backend);
        if (cursor >= 0)
            cursor++;
    }

    public void Remove(Backend backend)
    {
        int i = list.IndexOf(backend);
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
        int i = list.IndexOf(backend);
        if (i < 0)
            throw new ArgumentException($"{backend} is not a dest", nameof(backend));
        list[i] = list[i] with { Weight = weight };
    }

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
