using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Core.Tests.Scheduling;

/// <summary>dh against docs/ipvs.md §2.8.</summary>
public sealed class DestinationHashingTests
{
    private static Backend B(int n, ushort weight = 1) => new(IPAddress.Parse($"10.200.1{n}.2"), 8080, weight);

    [Theory]
    [InlineData("10.200.1.10", 71u)]
    [InlineData("10.0.0.7", 114u)]
    [InlineData("192.168.1.100", 89u)]
    public void BucketIsHash32OfTheDestinationAddress(string vip, uint bucket) =>
        Assert.Equal(bucket, DestinationHashing.Bucket(IPAddress.Parse(vip)));

    [Fact]
    public void WeightsAreIgnoredWhenFilling()
    {
        int[] table = DestinationHashing.BuildTable([B(1, 5), B(2, 1), B(3, 0)]);
        Assert.Equal(256, table.Length);
        Assert.Equal([0, 1, 2, 0, 1, 2], table.Take(6));
        Assert.Equal(0, table[255]);
    }

    [Fact]
    public void PickReadsTheVipsBucket()
    {
        List<Backend> list = [B(3), B(2), B(1)];
        int[] table = DestinationHashing.BuildTable(list);
        Assert.Equal(71 % 3, DestinationHashing.Pick(table, list, IPAddress.Parse("10.200.1.10")));
        Assert.Equal(114 % 3, DestinationHashing.Pick(table, list, IPAddress.Parse("10.0.0.7")));
    }

    [Fact]
    public void AWeightZeroDestGivesNoDestAndThereIsNoFallback()
    {
        // 10.0.0.7 -> bucket 114 -> 114 % 2 = 0.
        List<Backend> list = [B(1, 0), B(2)];
        int[] table = DestinationHashing.BuildTable(list);
        Assert.Equal(-1, DestinationHashing.Pick(table, list, IPAddress.Parse("10.0.0.7")));
        Assert.Equal(1, DestinationHashing.Pick(table, list, IPAddress.Parse("192.168.1.100"))); // 89 % 2 = 1
    }

    [Fact]
    public void AnEmptyListHasNoDest()
    {
        int[] table = DestinationHashing.BuildTable([]);
        Assert.All(table, i => Assert.Equal(-1, i));
        Assert.Equal(-1, DestinationHashing.Pick(table, [], IPAddress.Parse("10.0.0.7")));
    }

    [Fact]
    public void Ipv6DestinationsHashTheirFoldedAddress() =>
        Assert.Equal(IpvsHash.Hash32(0x20010DB9u, 8), DestinationHashing.Bucket(IPAddress.Parse("2001:db8::1")));
}
