namespace XdpLb.Core.Status;

/// <summary>
/// Per-second rates from counter samples, as IPVS's estimator gives them to `ipvsadm
/// --rate`: the change over the last sampling interval divided by its length.
/// </summary>
public sealed class RateEstimator<TKey> where TKey : notnull
{
    private Dictionary<TKey, TrafficCounters> previous = new();
    private Dictionary<TKey, TrafficCounters> rates = new();
    private DateTime previousAt;

    public void Sample(IReadOnlyDictionary<TKey, TrafficCounters> counters, DateTime at)
    {
        double seconds = (at - previousAt).TotalSeconds;
        var next = new Dictionary<TKey, TrafficCounters>();
        if (previous.Count > 0 && seconds > 0)
        {
            foreach (var (key, now) in counters)
            {
                if (!previous.TryGetValue(key, out var before))
                    continue;
                next[key] = new TrafficCounters(
                    PerSecond(before.Conns, now.Conns, seconds), PerSecond(before.InPackets, now.InPackets, seconds),
                    PerSecond(before.OutPackets, now.OutPackets, seconds), PerSecond(before.InBytes, now.InBytes, seconds),
                    PerSecond(before.OutBytes, now.OutBytes, seconds));
            }
        }
        previous = counters.ToDictionary(e => e.Key, e => e.Value);
        previousAt = at;
        rates = next;
    }

    public TrafficCounters RateOf(TKey key) => rates.GetValueOrDefault(key) ?? new TrafficCounters();

    // Counters that went backwards (a backend re-added) count as no traffic.
    private static ulong PerSecond(ulong before, ulong now, double seconds) =>
        now < before ? 0 : (ulong)Math.Round((now - before) / seconds);
}
