using XdpLb.Core.Status;

namespace XdpLb.Core.Tests;

public sealed class RateEstimatorTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void RateIsTheChangeOverTheLastIntervalPerSecond()
    {
        var estimator = new RateEstimator();

        estimator.Sample([new(7, 10, 100, 50, 10_000, 5_000)], T0);
        Assert.Equal(new TrafficCounters(), estimator.RateOf(0, 7));   // one sample: no rate yet

        estimator.Sample([new(7, 14, 300, 250, 30_000, 25_000)], T0.AddSeconds(2));

        Assert.Equal(new TrafficCounters(2, 100, 100, 10_000, 10_000), estimator.RateOf(0, 7));
        Assert.Equal(new TrafficCounters(), estimator.RateOf(1, 7));   // an index never sampled
        Assert.Equal(new TrafficCounters(), estimator.RateOf(0, 8));   // another owner asks
    }

    [Fact]
    public void CountersThatWentBackwardsCountAsNoTraffic()
    {
        var estimator = new RateEstimator();
        estimator.Sample([new(1, 10, 100, 100, 100, 100)], T0);

        estimator.Sample([new(1, 0, 0, 0, 0, 0)], T0.AddSeconds(2));

        Assert.Equal(new TrafficCounters(), estimator.RateOf(0, 1));
    }

    [Fact]
    public void AnIndexThatChangedOwnerHasNoRateForThatInterval()
    {
        var estimator = new RateEstimator();
        estimator.Sample([new(1, 5, 5, 5, 5, 5), new(3, 0, 0, 0, 0, 0)], T0);

        // Index 0 passed to owner 2, whose counters happen to be above the old owner's.
        estimator.Sample([new(2, 1005, 1005, 1005, 1005, 1005), new(3, 20, 20, 20, 20, 20)], T0.AddSeconds(2));
        Assert.Equal(new TrafficCounters(), estimator.RateOf(0, 2));
        Assert.Equal(new TrafficCounters(10, 10, 10, 10, 10), estimator.RateOf(1, 3));

        estimator.Sample([new(2, 1025, 1025, 1025, 1025, 1025), new(3, 20, 20, 20, 20, 20)], T0.AddSeconds(4));
        Assert.Equal(new TrafficCounters(10, 10, 10, 10, 10), estimator.RateOf(0, 2));
    }

    [Fact]
    public void IndexesWithoutOwnerAndNewIndexesHaveNoRate()
    {
        var estimator = new RateEstimator();
        estimator.Sample([new(0, 5, 5, 5, 5, 5)], T0);

        estimator.Sample([new(0, 9, 9, 9, 9, 9), new(4, 9, 9, 9, 9, 9)], T0.AddSeconds(2));

        Assert.Equal(new TrafficCounters(), estimator.RateOf(0, 0));
        Assert.Equal(new TrafficCounters(), estimator.RateOf(1, 4));   // grew into the sample: no previous
    }
}
