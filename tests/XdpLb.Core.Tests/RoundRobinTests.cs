using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Core.Tests;

/// <summary>The rr reference model against docs/ipvs.md §2.1 and §8.2, and the data path's slots against the model.</summary>
public sealed class RoundRobinTests
{
    private static Backend B(int n, ushort weight = 1) => new(IPAddress.Parse($"10.200.1{n}.2"), 8080, weight);

    private static List<string> Picks(IpvsRoundRobinModel model, int count) =>
        Enumerable.Range(0, count).Select(_ => model.Schedule()?.Address.ToString() ?? "none").ToList();

    [Fact]
    public void ModelPicksNewestFirstAsVerifiedOnARealKernel()
    {
        // docs/ipvs.md §8.2: b1, b2, b3 added in that order are picked b3, b2, b1, b3, ...
        var model = new IpvsRoundRobinModel();
        model.Add(B(1));
        model.Add(B(2));
        model.Add(B(3));

        Assert.Equal(["10.200.13.2", "10.200.12.2", "10.200.11.2", "10.200.13.2"], Picks(model, 4));
    }

    [Fact]
    public void ModelSkipsWeightZero()
    {
        var model = new IpvsRoundRobinModel();
        model.Add(B(1));
        model.Add(B(2, weight: 0));
        model.Add(B(3));

        Assert.Equal(["10.200.13.2", "10.200.11.2", "10.200.13.2"], Picks(model, 3));
    }

    [Fact]
    public void ModelFailsWhenEveryWeightIsZero()
    {
        var model = new IpvsRoundRobinModel();
        model.Add(B(1, weight: 0));

        Assert.Null(model.Schedule());
        Assert.Null(new IpvsRoundRobinModel().Schedule());
    }

    [Fact]
    public void RemovingTheCursorsDestMovesTheCursorToItsPredecessor()
    {
        // ip_vs_rr_del_dest: the next pick is the removed dest's successor.
        var model = new IpvsRoundRobinModel();
        model.Add(B(1));
        model.Add(B(2));
        model.Add(B(3));           // list: b3 b2 b1
        Assert.Equal("10.200.13.2", model.Schedule()!.Address.ToString());
        Assert.Equal("10.200.12.2", model.Schedule()!.Address.ToString());

        model.Remove(B(2));        // cursor was b2: moves to b3

        Assert.Equal(["10.200.11.2", "10.200.13.2", "10.200.11.2"], Picks(model, 3));
    }

    [Fact]
    public void AddingADestDoesNotResetTheCursor()
    {
        var model = new IpvsRoundRobinModel();
        model.Add(B(1));
        model.Add(B(2));           // list: b2 b1
        Assert.Equal("10.200.12.2", model.Schedule()!.Address.ToString());

        model.Add(B(3));           // list: b3 b2 b1, cursor still on b2

        Assert.Equal(["10.200.11.2", "10.200.13.2", "10.200.12.2"], Picks(model, 3));
    }

    [Theory]
    [InlineData(new ushort[] { 1, 1, 1 })]
    [InlineData(new ushort[] { 1, 0, 1, 5 })]
    [InlineData(new ushort[] { 0, 0, 3 })]
    [InlineData(new ushort[] { 7 })]
    public void SlotsSteppedByACounterEqualTheModelFromAFreshService(ushort[] weights)
    {
        var backends = weights.Select((w, i) => B(i + 1, w)).ToList();
        var model = new IpvsRoundRobinModel();
        foreach (var b in backends)
            model.Add(b);

        var listOrder = IpvsListOrder.Next([], backends);
        var slots = RoundRobin.Slots(listOrder);
        var fromSlots = Enumerable.Range(0, 20).Select(t => listOrder[slots[t % slots.Count]].Address.ToString()).ToList();

        Assert.Equal(Picks(model, 20), fromSlots);
    }

    [Fact]
    public void NoUsableBackendMeansNoSlots() =>
        Assert.Empty(RoundRobin.Slots([B(1, 0), B(2, 0)]));
}

public sealed class RoundRobinTicketTests
{
    private static Backend B(int n, ushort weight = 1) => new(IPAddress.Parse($"10.0.0.{n}"), 80, weight);

    [Fact]
    public void RemovingTheLastPickedDestContinuesWithItsSuccessor()
    {
        var list = IpvsListOrder.Next([], [B(1), B(2), B(3)]);       // 3 2 1; slots 3 2 1
        // Two picks done (3, 2): the cursor is on 2.
        var steps = IpvsListOrder.Steps(list, [B(1), B(3)]);         // remove 2: cursor goes to 3

        ulong ticket = RoundRobin.TicketAfter(list, 2, steps);

        var newList = IpvsListOrder.Apply(list, steps);              // 3 1
        Assert.Equal("10.0.0.1", newList[RoundRobin.Slots(newList)[(int)ticket % 2]].Address.ToString());
    }

    [Fact]
    public void AFreshTicketStartsAtTheHead()
    {
        var list = IpvsListOrder.Next([], [B(1), B(2)]);
        var steps = IpvsListOrder.Steps(list, [B(1), B(2), B(3)]);

        ulong ticket = RoundRobin.TicketAfter(list, 0, steps);

        var newList = IpvsListOrder.Apply(list, steps);              // 3 2 1
        Assert.Equal("10.0.0.3", newList[RoundRobin.Slots(newList)[(int)ticket]].Address.ToString());
    }
}
