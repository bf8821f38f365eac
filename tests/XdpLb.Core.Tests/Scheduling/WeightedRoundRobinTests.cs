using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Core.Tests.Scheduling;

/// <summary>The wrr reference model against docs/ipvs.md §2.2 and §8.3.</summary>
public sealed class WeightedRoundRobinTests
{
    private static Backend B(int n, ushort weight = 1) => new(IPAddress.Parse($"10.200.1{n}.2"), 8080, weight);

    private static readonly Dictionary<string, string> Names = new()
    {
        ["10.200.11.2"] = "b1", ["10.200.12.2"] = "b2", ["10.200.13.2"] = "b3",
    };

    private static string Picks(IpvsWeightedRoundRobinModel model, int count) => string.Join(' ',
        Enumerable.Range(0, count).Select(_ => model.Schedule() is { } b ? Names[b.Address.ToString()] : "none"));

    private static IpvsWeightedRoundRobinModel Added(params Backend[] inAddOrder)
    {
        var model = new IpvsWeightedRoundRobinModel();
        foreach (var b in inAddOrder)
            model.Add(b);
        return model;
    }

    [Fact]
    public void IncrementalAddsMatchTheRealKernel()
    {
        // docs/ipvs.md §8.3: b1=3, b2=2, b3=1 added one at a time; the cycle starts with cw = 1.
        var model = Added(B(1, 3), B(2, 2), B(3, 1));
        Assert.Equal(1, model.CurrentWeight);
        Assert.Equal(3, model.MaxWeight);
        Assert.Equal(-1, model.Cursor);

        Assert.Equal("b3 b2 b1 b1 b2 b1 b3 b2 b1 b1 b2 b1", Picks(model, 12));
    }

    [Fact]
    public void TheFirstAddSetsCurrentWeightFromZeroToMaxWeight()
    {
        var model = new IpvsWeightedRoundRobinModel();
        Assert.Equal(0, model.CurrentWeight);
        Assert.Null(model.Schedule());

        model.Add(B(1, 3));   // di = 3, mw = 3 - 2 = 1, cw 0 -> 1
        Assert.Equal(3, model.WeightStep);
        Assert.Equal(1, model.MaxWeight);
        Assert.Equal(1, model.CurrentWeight);
    }

    [Fact]
    public void WeightsFourThreeTwoRunTheDocumentedCycle()
    {
        // List A=4, B=3, C=2 (added C, B, A). Built incrementally the cycle starts at the cw = 1 pass;
        // from the fourth pick on it is "A A B A B C A B C", the sequence of docs/ipvs.md §2.2.
        var model = Added(B(3, 2), B(2, 3), B(1, 4));
        Assert.Equal("b1 b2 b3 b1 b1 b2 b1 b2 b3 b1 b2 b3 b1 b1 b2 b1 b2 b3 b1 b2 b3", Picks(model, 21));
    }

    [Fact]
    public void WeightsFourTwoGiveAAB()
    {
        var model = Added(B(2, 2), B(1, 4));
        Assert.Equal(2, model.WeightStep);
        Assert.Equal(3, model.MaxWeight);
        Assert.Equal(1, model.CurrentWeight); // (1 / 2) * 2 + 1
        Assert.Equal("b1 b2 b1 b1 b2 b1 b1 b2", Picks(model, 8));
    }

    [Fact]
    public void CursorAndCurrentWeightFollowEachPick()
    {
        var model = Added(B(1, 3), B(2, 2), B(3, 1)); // list b3 b2 b1
        model.Schedule();
        Assert.Equal((0, 1), (model.Cursor, model.CurrentWeight));
        model.Schedule();
        model.Schedule();
        Assert.Equal((2, 1), (model.Cursor, model.CurrentWeight));
        model.Schedule(); // passes the end: cw 0 -> mw, then b1
        Assert.Equal((2, 3), (model.Cursor, model.CurrentWeight));
        model.Schedule(); // passes the end: cw 2, then b2
        Assert.Equal((1, 2), (model.Cursor, model.CurrentWeight));
    }

    [Fact]
    public void WeightZeroIsNeverPicked()
    {
        var model = Added(B(1, 2), B(2, 0), B(3, 1));
        Assert.DoesNotContain("b2", Picks(model, 12));
    }

    [Fact]
    public void AllWeightsZeroFailsAndLeavesTheCursor()
    {
        var model = Added(B(1, 0), B(2, 0));
        Assert.Equal(0, model.MaxWeight);
        Assert.Null(model.Schedule());
        Assert.Equal(-1, model.Cursor);
    }

    [Fact]
    public void AWeightChangeResetsTheCursorAndRealignsCurrentWeight()
    {
        var model = Added(B(2, 1), B(1, 4)); // list b1 b2, di 1, mw 4
        Picks(model, 5);                      // b1 b2 b1 b1 b1: cw is now 2
        Assert.Equal((0, 2), (model.Cursor, model.CurrentWeight));

        model.SetWeight(B(2), 2);             // di 2, mw 3: cw = (2 / 2) * 2 + 1
        Assert.Equal((-1, 3), (model.Cursor, model.CurrentWeight));
        Assert.Equal(2, model.ListOrder[1].Weight);
        Assert.Equal("b1 b1 b2", Picks(model, 3));
    }

    [Fact]
    public void CurrentWeightAboveTheNewMaxIsClamped()
    {
        var model = Added(B(2, 1), B(1, 4));
        Picks(model, 3);                      // cw is 4 after the third pick
        Assert.Equal(4, model.CurrentWeight);
        model.SetWeight(B(1), 2);             // mw 2
        Assert.Equal(2, model.CurrentWeight);
    }

    [Fact]
    public void RemovingADestResetsTheCursorToTheHead()
    {
        var model = Added(B(1, 3), B(2, 2), B(3, 1));
        Picks(model, 2);
        Assert.Equal(1, model.Cursor);

        model.Remove(B(3, weight: 99));       // matched by address and port
        Assert.Equal(-1, model.Cursor);
        Assert.Equal(["10.200.12.2", "10.200.11.2"], model.ListOrder.Select(b => b.Address.ToString()));
        Assert.Equal("b2 b1 b1 b2 b1", Picks(model, 5));
    }

    [Fact]
    public void AddingADestResetsTheCursorAndKeepsCurrentWeight()
    {
        var model = Added(B(1, 3), B(2, 2));  // list b2 b1
        Picks(model, 3);                      // cw 1: b2 b1, then cw 3: b1
        Assert.Equal((1, 3), (model.Cursor, model.CurrentWeight));

        model.Add(B(3, 1));                   // list b3 b2 b1; cw 3 <= mw 3
        Assert.Equal((-1, 3), (model.Cursor, model.CurrentWeight));
        Assert.Equal("b1 b2 b1 b3 b2 b1", Picks(model, 6));
    }

    [Fact]
    public void UnknownOrDuplicateDestsAreRejected()
    {
        var model = Added(B(1));
        Assert.Throws<ArgumentException>(() => model.Add(B(1, 5)));
        Assert.Throws<ArgumentException>(() => model.Remove(B(2)));
        Assert.Throws<ArgumentException>(() => model.SetWeight(B(2), 1));
    }
}
