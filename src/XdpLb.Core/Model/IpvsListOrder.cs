namespace XdpLb.Core.Model;

/// <summary>
/// The order of a service's dests as IPVS keeps it (docs/ipvs.md §1.1): each added dest goes to
/// the head of the list, so the order depends on history, not only on the current config.
/// Changes are applied in kube-proxy's order, adds before deletes: new dests are added in
/// listed order, then weights updated, then removed dests deleted. Schedulers' tie-breaks,
/// rr's cursor and the sh/dh/mh tables all follow this order.
/// </summary>
public static class IpvsListOrder
{
    /// <summary>Something that follows IPVS's dest hooks: the scheduler models.</summary>
    public interface IDestHooks
    {
        void Add(Backend backend);
        void SetWeight(Backend backend, ushort weight);
        void Remove(Backend backend);
    }

    /// <summary>Plays the steps on a model, as the kernel runs its hooks for each.</summary>
    public static void Replay(IEnumerable<Step> steps, IDestHooks model)
    {
        foreach (var step in steps)
        {
            switch (step)
            {
                case Added a:
                    model.Add(a.Backend);
                    break;
                case WeightChanged w:
                    model.SetWeight(w.Backend, w.Backend.Weight);
                    break;
                case Removed r:
                    model.Remove(r.Backend);
                    break;
            }
        }
    }

    /// <summary>One step of applying a change, in the order IPVS sees them.</summary>
    public abstract record Step(Backend Backend);
    public sealed record Added(Backend Backend) : Step(Backend);
    public sealed record WeightChanged(Backend Backend) : Step(Backend);
    public sealed record Removed(Backend Backend) : Step(Backend);

    /// <summary>The list order after moving from <paramref name="current"/> (list order) to the listed backends.</summary>
    public static IReadOnlyList<Backend> Next(IReadOnlyList<Backend> current, IReadOnlyList<Backend> listed) =>
        Apply(current, Steps(current, listed));

    public static IReadOnlyList<Step> Steps(IReadOnlyList<Backend> current, IReadOnlyList<Backend> listed)
    {
        var existing = current.ToDictionary(b => (b.Address, b.Port));
        var wanted = listed.Select(b => (b.Address, b.Port)).ToHashSet();
        var steps = new List<Step>();
        foreach (var b in listed)
        {
            if (!existing.TryGetValue((b.Address, b.Port), out var old))
                steps.Add(new Added(b));
            else if (old != b)
                steps.Add(new WeightChanged(b));
        }
        steps.AddRange(current.Where(b => !wanted.Contains((b.Address, b.Port))).Select(b => new Removed(b)));
        return steps;
    }

    public static IReadOnlyList<Backend> Apply(IReadOnlyList<Backend> current, IEnumerable<Step> steps)
    {
        var list = current.ToList();
        foreach (var step in steps)
        {
            int i = list.FindIndex(b => b.Address.Equals(step.Backend.Address) && b.Port == step.Backend.Port);
            switch (step)
            {
                case Added:
                    list.Insert(0, step.Backend);
                    break;
                case WeightChanged:
                    list[i] = step.Backend;
                    break;
                case Removed:
                    list.RemoveAt(i);
                    break;
            }
        }
        return list;
    }
}
