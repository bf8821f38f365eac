using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Core.Tests.Scheduling;

/// <summary>mh against docs/ipvs.md §2.9 and the real-kernel vectors of §8.5.</summary>
public sealed class MaglevTests
{
    private static Backend B(int n, ushort weight = 1) => new(IPAddress.Parse($"10.200.1{n}.2"), 8080, weight);

    // b1, b2, b3 added in that order: the list is b3, b2, b1.
    private static List<Backend> Kernel421() => [B(3, 1), B(2, 2), B(1, 4)];

    [Theory]
    [InlineData(1, 1935u, 1131u)]
    [InlineData(2, 3340u, 1223u)]
    [InlineData(3, 2412u, 2276u)]
    public void DestPermutationsMatchTheRealKernel(int n, uint offset, uint skip) =>
        Assert.Equal((offset, skip), Maglev.Permutation(B(n)));

    [Fact]
    public void ThePermutationHashesThePortPlusTheAddressAsOneLittleEndianWord()
    {
        // 10.200.11.2:8080 -> 0x0AC80B02 + 8080 = 0x0AC82A92, bytes 92 2A C8 0A.
        uint offset = IpvsHash.HSipHash([0x92, 0x2A, 0xC8, 0x0A], Maglev.Hash1Key, Maglev.Hash1Key) % 4093;
        uint skip = IpvsHash.HSipHash([0x92, 0x2A, 0xC8, 0x0A], Maglev.Hash2Key, Maglev.Hash2Key) % 4092 + 1;
        Assert.Equal((offset, skip), Maglev.Permutation(B(1)));
        Assert.NotEqual(Maglev.Permutation(B(1)), Maglev.Permutation(B(1) with { Port = 8081 }));
        Assert.Equal(Maglev.Permutation(B(1)), Maglev.Permutation(B(1, weight: 9)));
    }

    [Fact]
    public void TableWithWeights421MatchesTheRealKernel()
    {
        var list = Kernel421();
        int[] table = Maglev.BuildTable(list);

        Assert.Equal(Maglev.TableSize, table.Length);
        Assert.Equal(585, table.Count(i => i == 0));   // b3
        Assert.Equal(1170, table.Count(i => i == 1));  // b2
        Assert.Equal(2338, table.Count(i => i == 2));  // b1
        string[] names = ["b3", "b2", "b1"];
        Assert.Equal("b1 b1 b1 b1 b2 b1 b1 b3 b2 b1 b2 b1", string.Join(' ', table.Take(12).Select(i => names[i])));
    }

    [Fact]
    public void EachDestStartsAtItsOffsetWhenNothingCollides()
    {
        int[] table = Maglev.BuildTable(Kernel421());
        Assert.Equal(0, table[2412]);  // b3 claims its offset first
        Assert.Equal(1, table[3340]);  // then b2
        Assert.Equal(2, table[1935]);  // then b1
    }

    [Theory]
    [InlineData("10.200.1.10", 1137)]
    [InlineData("10.0.0.7", 754)]
    public void SlotMatchesTheRealKernelAndIgnoresThePortWithoutMhPort(string client, int slot)
    {
        Assert.Equal(slot, Maglev.Slot(IPAddress.Parse(client), 40000, mhPort: false));
        Assert.Equal(slot, Maglev.Slot(IPAddress.Parse(client), 0, mhPort: true));
        Assert.NotEqual(slot, Maglev.Slot(IPAddress.Parse(client), 40000, mhPort: true));
    }

    [Fact]
    public void SlotAddsPortAndOffsetInsideTheHash()
    {
        var client = IPAddress.Parse("10.0.0.7");
        int expected = (int)(IpvsHash.HSipHash(0x0A000007u + 40000 + 5, Maglev.Hash1Key, Maglev.Hash1Key) % 4093);
        Assert.Equal(expected, Maglev.Slot(client, 40000, mhPort: true, offset: 5));
    }

    [Fact]
    public void PickReadsTheClientsSlot()
    {
        var list = Kernel421();
        int[] table = Maglev.BuildTable(list);
        var client = IPAddress.Parse("10.200.1.10");
        Assert.Equal(table[1137], Maglev.Pick(table, list, client, 1234, mhPort: false, mhFallback: false));
        int withPort = Maglev.Slot(client, 1234, mhPort: true);
        Assert.Equal(table[withPort], Maglev.Pick(table, list, client, 1234, mhPort: true, mhFallback: true));
    }

    [Fact]
    public void WeightZeroKeepsItsSlotsThroughTheLastWeight()
    {
        var before = Kernel421();
        List<Backend> quiesced = [before[0], before[1], before[2] with { Weight = 0 }];

        int[] table = Maglev.BuildTable(quiesced, lastWeights: [1, 2, 4]);

        Assert.Equal(Maglev.BuildTable(before), table);
        // Without the last weight, a weight-0 dest takes no slot at all.
        Assert.DoesNotContain(2, Maglev.BuildTable(quiesced));
    }

    [Fact]
    public void AQuiescedDestsSlotYieldsNothingWithoutFallback()
    {
        List<Backend> list = [B(3, 1), B(2, 2), B(1, 0)];
        int[] table = Maglev.BuildTable(list, lastWeights: [1, 2, 4]);
        var client = FindClient(c => table[Maglev.Slot(c, 0, false)] == 2);

        Assert.Equal(-1, Maglev.Pick(table, list, client, 0, mhPort: false, mhFallback: false));
        int fallback = Maglev.Pick(table, list, client, 0, mhPort: false, mhFallback: true);
        Assert.True(fallback is 0 or 1, $"fallback picked {fallback}");
    }

    [Fact]
    public void FallbackRehashesWithTheOffsetInsideTheHash()
    {
        // Slot ihash holds an unusable dest; the first probe is hash(ihash + addr) % M.
        List<Backend> list = [B(1, 0), B(2, 1), B(3, 1)];
        var client = IPAddress.Parse("10.0.0.7");
        int ihash = Maglev.Slot(client, 0, false);
        int probe = Maglev.Slot(client, 0, false, (uint)ihash);
        Assert.NotEqual(ihash, probe);
        var table = Enumerable.Repeat(0, Maglev.TableSize).ToArray();
        table[probe] = 1;
        table[(ihash + 1) % Maglev.TableSize] = 2; // a naive linear probe would find this one

        Assert.Equal(1, Maglev.Pick(table, list, client, 0, mhPort: false, mhFallback: true));

        table[probe] = -1; // an empty slot aborts the search
        Assert.Equal(-1, Maglev.Pick(table, list, client, 0, mhPort: false, mhFallback: true));
    }

    [Fact]
    public void AnEmptySlotMeansNoDest()
    {
        var table = Enumerable.Repeat(-1, Maglev.TableSize).ToArray();
        Assert.Equal(-1, Maglev.Pick(table, [B(1)], IPAddress.Parse("10.0.0.7"), 0, false, mhFallback: true));
    }

    [Fact]
    public void NoPositiveLastWeightEmptiesTheTable()
    {
        Assert.All(Maglev.BuildTable([B(1, 0), B(2, 0)]), i => Assert.Equal(-1, i));
        Assert.All(Maglev.BuildTable([]), i => Assert.Equal(-1, i));
    }

    [Fact]
    public void LargeWeightRatiosAreShiftedToSixBits()
    {
        // gcd 1, max 1000: fls(1000) = 10, rshift 4, turns 62 and 1 (never 0 for a non-zero weight).
        int[] table = Maglev.BuildTable([B(1, 1000), B(2, 1)]);
        Assert.Equal(64, table.Count(i => i == 1));
        Assert.Equal(4093 - 64, table.Count(i => i == 0));
    }

    [Fact]
    public void WeightsAreDividedByTheirGcd()
    {
        Assert.Equal(Maglev.BuildTable(Kernel421()), Maglev.BuildTable([B(3, 10), B(2, 20), B(1, 40)]));
    }

    [Fact]
    public void AtMostTableSizeDests()
    {
        var many = Enumerable.Range(0, 4094).Select(i => new Backend(new IPAddress(0x0A000000u + (uint)i), 80)).ToList();
        var error = Assert.Throws<ArgumentException>(() => Maglev.BuildTable(many));
        Assert.Contains("4094", error.Message);

        int[] full = Maglev.BuildTable(many.Take(4093).ToList());
        Assert.Equal(Enumerable.Range(0, 4093), full.Order());
    }

    [Fact]
    public void LastWeightsMustMatchTheList() =>
        Assert.Throws<ArgumentException>(() => Maglev.BuildTable(Kernel421(), lastWeights: [1, 2]));

    private static IPAddress FindClient(Func<IPAddress, bool> predicate)
    {
        for (uint i = 1; i < 100_000; i++)
        {
            var candidate = new IPAddress(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(0x0A640000u + i));
            if (predicate(candidate))
                return candidate;
        }
        throw new InvalidOperationException("no such client");
    }
}
