namespace XdpLb.Core.Status;

/// <summary>
/// One owner's cumulative counters at a sample. <see cref="Owner"/> tells apart the owners
/// an index has had (the data path's backend ids are reused); 0 means the index has none.
/// </summary>
public readonly record struct CounterSample(uint Owner, ulong Conns, ulong InPackets, ulong OutPackets, ulong InBytes, ulong OutBytes);

/// <summary>
/// Per-second rates from counter samples, as IPVS's estimator gives them to `ipvsadm
/// --rate`: the change over the last sampling interval divided by its length.
/// </summary>
/// <remarks>
/// Samples are arrays indexed by the data path's backend id, not dictionaries keyed by
/// (service, address, port): the agent samples every backend every 2 s, and at 100,000
/// backends the hashing and per-entry allocation of a dictionary cost it several percent of
/// a CPU with no traffic at all. An index whose owner changed between two samples has no
/// rate for that interval, as a new dest's estimator starts afresh in IPVS.
/// </remarks>
public sealed class RateEstimator
{
    private CounterSample[] previous = [];
    private CounterSample[] rates = [];
    private DateTime previousAt;

    public void Sample(ReadOnlySpan<CounterSample> counters, DateTime at)
    {
        double seconds = (at - previousAt).TotalSeconds;
        if (rates.Length != counters.Length)
            rates = new CounterSample[counters.Length];
        for (int i = 0; i < counters.Length; i++)
        {
            var now = counters[i];
            bool comparable = seconds > 0 && now.Owner != 0 && i < previous.Length && previous[i].Owner == now.Owner;
            rates[i] = comparable ? PerSecond(previous[i], now, seconds) : default;
        }
        if (previous.Length != counters.Length)
            previous = new CounterSample[counters.Length];
        counters.CopyTo(previous);
        previousAt = at;
    }

    /// <summary>The rate of <paramref name="index"/> over the last interval, if <paramref name="owner"/> held it throughout.</summary>
    public TrafficCounters RateOf(uint index, uint owner)
    {
        if (owner == 0 || index >= rates.Length || rates[index].Owner != owner)
            return new TrafficCounters();
        var r = rates[index];
        return new TrafficCounters(r.Conns, r.InPackets, r.OutPackets, r.InBytes, r.OutBytes);
    }

    private static CounterSample PerSecond(CounterSample before, CounterSample now, double seconds) => new(now.Owner,
        PerSecond(before.Conns, now.Conns, seconds), PerSecond(before.InPackets, now.InPackets, seconds),
        PerSecond(before.OutPackets, now.OutPackets, seconds), PerSecond(before.InBytes, now.InBytes, seconds),
        PerSecond(before.OutBytes, now.OutBytes, seconds));

    // Counters that went backwards (an id's counters cleared) count as no traffic.
    private static ulong PerSecond(ulong before, ulong now, double seconds) =>
        now < before ? 0 : (ulong)Math.Round((now - before) / seconds);
}
