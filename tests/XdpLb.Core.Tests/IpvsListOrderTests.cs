using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Core.Tests;

public sealed class IpvsListOrderTests
{
    private static Backend B(int n, ushort weight = 1) => new(IPAddress.Parse($"10.0.0.{n}"), 80, weight);

    private static string Order(IReadOnlyList<Backend> list) => string.Join(" ", list.Select(b => b.Address.GetAddressBytes()[3]));

    [Fact]
    public void AFreshServiceIsTheListedOrderReversed() =>
        Assert.Equal("3 2 1", Order(IpvsListOrder.Next([], [B(1), B(2), B(3)])));

    [Fact]
    public void OrderDependsOnHistoryNotOnlyOnTheListing()
    {
        var list = IpvsListOrder.Next([], [B(1), B(2), B(3)]);       // 3 2 1

        list = IpvsListOrder.Next(list, [B(4), B(1)]);               // add 4 at the head, then remove 2 and 3

        Assert.Equal("4 1", Order(list));
        Assert.Equal("5 4 1", Order(IpvsListOrder.Next(list, [B(1), B(5), B(4)])));
    }

    [Fact]
    public void WeightChangesKeepThePlace()
    {
        var list = IpvsListOrder.Next([], [B(1), B(2), B(3)]);

        var steps = IpvsListOrder.Steps(list, [B(1), B(2, weight: 0), B(3)]);

        var changed = Assert.IsType<IpvsListOrder.WeightChanged>(Assert.Single(steps));
        Assert.Equal(0, changed.Backend.Weight);
        Assert.Equal("3 2 1", Order(IpvsListOrder.Apply(list, steps)));
    }

    [Fact]
    public void StepsAreAddsThenWeightChangesInListedOrderThenRemovals()
    {
        var list = IpvsListOrder.Next([], [B(1), B(2)]);

        var steps = IpvsListOrder.Steps(list, [B(3), B(2, weight: 5), B(4)]);

        Assert.Equal(["Added 3", "WeightChanged 2", "Added 4", "Removed 1"],
            steps.Select(s => $"{s.GetType().Name} {s.Backend.Address.GetAddressBytes()[3]}"));
    }
}
