using XdpLb.Core.Status;

namespace XdpLb.Core.Tests;

public sealed class RateEstimatorTests
{
    [Fact]
    public void RateIsTheChangeOverTheLastIntervalPerSecond()
    {
        var estimator = new RateEstimator<string>();
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        estimator.Sample(new Dictionary<string, TrafficCounters> { ["a"] = new(10, 100, 50, 10_000, 5_000) }, t0);
        Assert.Equal(new TrafficCounters(), estimator.RateOf("a"));   // one sample: no rate yet

        estimator.Sample(new Dictionary<string, TrafficCounters> { ["a"] = new(14, 300, 250, 30_000, 25_000) }, t0.AddSeconds(2));

        Assert.Equal(new TrafficCounters(2, 100, 100, 10_000, 10_000), estimator.RateOf("a"));
        Assert.Equal(new TrafficCounters(), estimator.RateOf("unknown"));
    }

    [Fact]
    public void CountersThatWentBackwardsCountAsNoTraffic()
    {
        var estimator = new RateEstimator<string>();
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        estimator.Sample(new Dictionary<string, TrafficCounters> { ["a"] = new(10, 100, 100, 100, 100) }, t0);

        estimator.Sample(new Dictionary<string, TrafficCounters> { ["a"] = new(0, 0, 0, 0, 0) }, t0.AddSeconds(2));

        Assert.Equal(new TrafficCounters(), estimator.RateOf("a"));
    }
}
