using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf;

/// <summary>
/// The per-generation tables of the schedulers that need one (sh, dh: buckets; mh: Maglev;
/// wrr: weights and block maxima), built by the C# reference code from the list order.
/// </summary>
internal sealed record SchedulerTables(BucketTable? Buckets, MaglevTable? Maglev, WrrTable? Wrr)
{
    public static SchedulerTables For(Service service, IReadOnlyList<Backend> listOrder,
        IReadOnlyDictionary<(IPAddress, ushort), ushort> lastWeights) => service.Scheduler switch
    {
        Scheduler.Sh => new(BucketsOf(SourceHashing.BuildTable(listOrder)), null, null),
        Scheduler.Dh => new(BucketsOf(DestinationHashing.BuildTable(listOrder)), null, null),
        Scheduler.Mh => new(null, MaglevOf(Core.Scheduling.Maglev.BuildTable(listOrder, listOrder.Select(b => lastWeights[(b.Address, b.Port)]).ToList())), null),
        Scheduler.Wrr => new(null, null, WrrOf(listOrder)),
        _ => new(null, null, null),
    };

    public static bool Uses(Scheduler scheduler) => scheduler is Scheduler.Sh or Scheduler.Dh or Scheduler.Mh or Scheduler.Wrr;

    public void Write(XdpLbProgram program, TableKey key)
    {
        WriteOrDelete(program.BucketTables, key, Buckets);
        WriteOrDelete(program.MaglevTables, key, Maglev);
        WriteOrDelete(program.WrrTables, key, Wrr);
    }

    public static void Delete(XdpLbProgram program, TableKey key)
    {
        program.BucketTables.Delete(key);
        program.MaglevTables.Delete(key);
        program.WrrTables.Delete(key);
    }

    /// <summary>Whether the maps hold exactly these tables for the key.</summary>
    public bool Matches(XdpLbProgram program, TableKey key) =>
        Same(program.BucketTables, key, Buckets, (a, b) => ((ReadOnlySpan<ushort>)a.Slots).SequenceEqual(b.Slots)) &&
        Same(program.MaglevTables, key, Maglev, (a, b) => ((ReadOnlySpan<ushort>)a.Slots).SequenceEqual(b.Slots)) &&
        Same(program.WrrTables, key, Wrr, (a, b) => a.MaxWeight == b.MaxWeight && a.Step == b.Step &&
            ((ReadOnlySpan<ushort>)a.Weights).SequenceEqual(b.Weights) && ((ReadOnlySpan<ushort>)a.BlockMax).SequenceEqual(b.BlockMax));

    private static void WriteOrDelete<T>(BpfMap<TableKey, T> map, TableKey key, T? value) where T : unmanaged
    {
        if (value is { } v)
            map.Update(key, v);
        else
            map.Delete(key);
    }

    private static bool Same<T>(BpfMap<TableKey, T> map, TableKey key, T? expected, Func<T, T, bool> equal) where T : unmanaged
    {
        bool present = map.TryLookup(key, out var actual);
        return expected is { } e ? present && equal(e, actual) : !present;
    }

    private static BucketTable BucketsOf(int[] buckets)
    {
        var table = default(BucketTable);
        for (int i = 0; i < buckets.Length; i++)
            table.Slots[i] = buckets[i] < 0 ? BucketTable.Empty : (ushort)buckets[i];
        return table;
    }

    private static MaglevTable MaglevOf(int[] slots)
    {
        var table = default(MaglevTable);
        ((Span<ushort>)table.Slots).Fill(BucketTable.Empty);
        for (int i = 0; i < slots.Length; i++)
            table.Slots[i] = slots[i] < 0 ? BucketTable.Empty : (ushort)slots[i];
        return table;
    }

    private static WrrTable WrrOf(IReadOnlyList<Backend> listOrder)
    {
        var model = IpvsWeightedRoundRobinModel.FromState(listOrder, -1, 0);
        var table = new WrrTable { MaxWeight = (uint)Math.Max(model.MaxWeight, 0), Step = (uint)model.WeightStep };
        for (int i = 0; i < listOrder.Count; i++)
        {
            table.Weights[i] = listOrder[i].Weight;
            ref ushort blockMax = ref table.BlockMax[i / WrrTable.Block];
            blockMax = Math.Max(blockMax, listOrder[i].Weight);
        }
        return table;
    }
}
