using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Core.Tests.Scheduling;

/// <summary>sh against docs/ipvs.md §2.7 and §8.4.</summary>
public sealed class SourceHashingTests
{
    private static Backend B(int n, ushort weight = 1) => new(IPAddress.Parse($"10.200.1{n}.2"), 8080, weight);

    [Theory]
    [InlineData("10.200.1.10", 71u)]
    [InlineData("10.200.1.11", 169u)]
    [InlineData("10.0.0.7", 114u)]
    [InlineData("192.168.1.100", 89u)]
    public void BucketMatchesTheRealKernel(string client, uint bucket)
    {
        Assert.Equal(bucket, SourceHashing.Bucket(IPAddress.Parse(client), 0, shPort: false));
        Assert.Equal(bucket, SourceHashing.Bucket(IPAddress.Parse(client), 40000, shPort: false));
    }

    [Theory]
    [InlineData("10.200.1.10", 235u)]
    [InlineData("10.0.0.7", 22u)]
    public void ShPortAddsTheSourcePort(string client, uint bucket) =>
        Assert.Equal(bucket, SourceHashing.Bucket(IPAddress.Parse(client), 40000, shPort: true));

    [Fact]
    public void Ipv6ClientsHashTheirFoldedAddress()
    {
        var client = IPAddress.Parse("2001:db8::1");
        Assert.Equal(IpvsHash.Hash32(0x20010DB9u, 8), SourceHashing.Bucket(client, 0, false));
    }

    [Fact]
    public void EachDestTakesWeightConsecutiveBucketsInListOrder()
    {
        // b1=3, b2=2, b3=1 added in order: the list is b3, b2, b1.
        int[] table = SourceHashing.BuildTable([B(3, 1), B(2, 2), B(1, 3)]);

        Assert.Equal(256, table.Length);
        Assert.Equal([0, 1, 1, 2, 2, 2, 0, 1, 1, 2, 2, 2], table.Take(12));
        Assert.Equal(43, table.Count(i => i == 0));
        Assert.Equal(86, table.Count(i => i == 1));
        Assert.Equal(127, table.Count(i => i == 2));
        Assert.Equal(2, table[255]);
    }

    [Fact]
    public void WeightZeroStillTakesOneBucket()
    {
        int[] table = SourceHashing.BuildTable([B(1, 0), B(2, 2)]);
        Assert.Equal([0, 1, 1, 0, 1, 1], table.Take(6));
    }

    [Fact]
    public void AnEmptyListLeavesEveryBucketEmpty()
    {
        int[] table = SourceHashing.BuildTable([]);
        Assert.All(table, i => Assert.Equal(-1, i));
        Assert.Equal(-1, SourceHashing.Pick(table, [], IPAddress.Parse("10.0.0.7"), 0, false, shFallback: true));
    }

    [Fact]
    public void PickFollowsTheRealKernelsBuckets()
    {
        // docs/ipvs.md §2.7, §8.4: weights 1,1,1, list b3 b2 b1; bucket 71 -> 71 % 3 = 2 -> b1; bucket 114 -> 0 -> b3.
        List<Backend> list = [B(3), B(2), B(1)];
        int[] table = SourceHashing.BuildTable(list);
        Assert.Equal(2, SourceHashing.Pick(table, list, IPAddress.Parse("10.200.1.10"), 0, false, false));
        Assert.Equal(0, SourceHashing.Pick(table, list, IPAddress.Parse("10.0.0.7"), 0, false, false));
        // With sh-port and port 40000: bucket 235 -> 1 -> b2.
        Assert.Equal(1, SourceHashing.Pick(table, list, IPAddress.Parse("10.200.1.10"), 40000, true, false));
    }

    [Fact]
    public void AnUnusableBucketGivesNoDestWithoutFallback()
    {
        // 10.200.1.11 hashes to 169; 169 % 3 = 1: the weight-0 dest.
        List<Backend> list = [B(1), B(2, 0), B(3)];
        int[] table = SourceHashing.BuildTable(list);
        Assert.Equal(1, table[169]);
        Assert.Equal(-1, SourceHashing.Pick(table, list, IPAddress.Parse("10.200.1.11"), 0, false, shFallback: false));
        Assert.Equal(2, SourceHashing.Pick(table, list, IPAddress.Parse("10.200.1.11"), 0, false, shFallback: true));
    }

    [Fact]
    public void FallbackProbesFromTwiceTheHash()
    {
        // ihash 169: the probes are (i + 338) & 255 = 82, 83, ...; not 170, 171, ...
        List<Backend> list = [B(1, 0), B(2), B(3)];
        var table = new int[256];
        table[83] = 1;
        table[170] = 2;
        var client = IPAddress.Parse("10.200.1.11");

        Assert.Equal(1, SourceHashing.Pick(table, list, client, 0, false, shFallback: true));

        table[82] = -1; // an empty bucket aborts the search
        Assert.Equal(-1, SourceHashing.Pick(table, list, client, 0, false, shFallback: true));
    }

    [Fact]
    public void FallbackGivesUpWhenNoDestIsUsable()
    {
        List<Backend> list = [B(1, 0), B(2, 0)];
        int[] table = SourceHashing.BuildTable(list);
        Assert.Equal(-1, SourceHashing.Pick(table, list, IPAddress.Parse("10.0.0.7"), 0, false, shFallback: true));
    }
}
