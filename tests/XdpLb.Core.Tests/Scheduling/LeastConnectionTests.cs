using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;
using static XdpLb.Core.Scheduling.LeastConnection;

namespace XdpLb.Core.Tests.Scheduling;

/// <summary>lc, wlc, sed and nq against docs/ipvs.md §1.4 and §2.3–§2.6.</summary>
public sealed class LeastConnectionTests
{
    private static DestLoad D(ushort weight, uint active, uint inactive = 0) => new(weight, active, inactive);

    [Fact]
    public void OverheadCountsAnActiveConnectionAs256Inactive()
    {
        Assert.Equal(256 * 3 + 7, ConnOverhead(D(1, 3, 7)));
        Assert.Equal(4, ExpectedDelayOverhead(D(1, 3, 7)));
    }

    [Fact]
    public void LcPicksTheLeastOverhead()
    {
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Lc, [D(1, 0, 300), D(1, 1, 0)]));
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Lc, [D(1, 0, 255), D(1, 1, 0)]));
    }

    [Fact]
    public void LcTiesKeepTheEarlierDestAndIgnoreWeight()
    {
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Lc, [D(1, 1, 0), D(1, 0, 256)]));
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Lc, [D(1, 1, 0), D(100, 1, 0)]));
    }

    [Fact]
    public void LcSkipsWeightZero()
    {
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Lc, [D(0, 0, 0), D(1, 9, 9)]));
        Assert.Equal(-1, LeastConnection.Pick(Scheduler.Lc, [D(0, 0, 0), D(0, 1, 0)]));
        Assert.Equal(-1, LeastConnection.Pick(Scheduler.Lc, []));
    }

    [Fact]
    public void WlcMinimisesOverheadPerWeight()
    {
        // 256/1 against 512/3.
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Wlc, [D(1, 1), D(3, 2)]));
        // Inactive connections count.
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Wlc, [D(1, 0, 10), D(1, 0, 5)]));
    }

    [Fact]
    public void WlcTiesKeepTheEarlierDest()
    {
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Wlc, [D(1, 1), D(2, 2)]));
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Wlc, [D(2, 0), D(5, 0)]));
    }

    [Fact]
    public void WlcNeverPicksWeightZero()
    {
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Wlc, [D(0, 0), D(1, 5)]));
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Wlc, [D(1, 10), D(0, 0)]));
        Assert.Equal(-1, LeastConnection.Pick(Scheduler.Wlc, [D(0, 0), D(0, 0)]));
    }

    [Fact]
    public void WlcComparesInSigned64Bits()
    {
        // 2,048,000,000 * 3 overflows 32 bits; in 64 bits the weight-3 dest is lighter.
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Wlc, [D(1, 8_000_000), D(3, 8_000_000)]));
    }

    [Fact]
    public void SedIgnoresInactiveAndCountsTheIncomingConnection()
    {
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Sed, [D(1, 0, 100), D(1, 0, 0)]));
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Wlc, [D(1, 0, 100), D(1, 0, 0)]));
        // (1+1)/1 against (4+1)/3: sed prefers the heavier dest, wlc (256 vs 1024/3) does not.
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Sed, [D(1, 1), D(3, 4)]));
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Wlc, [D(1, 1), D(3, 4)]));
    }

    [Fact]
    public void SedTiesAndWeightZero()
    {
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Sed, [D(1, 1), D(2, 3)]));  // 2/1 == 4/2
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Sed, [D(1, 0), D(5, 0)]));  // 1/1 > 1/5
        Assert.Equal(2, LeastConnection.Pick(Scheduler.Sed, [D(0, 0), D(1, 1), D(3, 1)]));
        Assert.Equal(-1, LeastConnection.Pick(Scheduler.Sed, [D(0, 0)]));
    }

    [Fact]
    public void NqTakesTheFirstIdleDestAtOnce()
    {
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Nq, [D(1, 0), D(5, 0)]));
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Nq, [D(10, 1), D(1, 0)]));
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Sed, [D(10, 1), D(1, 0)]));
        // Inactive connections do not make a dest busy.
        Assert.Equal(1, LeastConnection.Pick(Scheduler.Nq, [D(1, 2), D(1, 0, 50)]));
    }

    [Fact]
    public void NqFallsBackToSedWithoutAnIdleDest()
    {
        Assert.Equal(2, LeastConnection.Pick(Scheduler.Nq, [D(0, 0), D(1, 3), D(2, 3)]));
        Assert.Equal(0, LeastConnection.Pick(Scheduler.Nq, [D(2, 3), D(2, 3)]));
        Assert.Equal(-1, LeastConnection.Pick(Scheduler.Nq, [D(0, 0), D(0, 4)]));
    }

    [Fact]
    public void OtherSchedulersAreRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LeastConnection.Pick(Scheduler.Rr, [D(1, 0)]));
}
