using System.Net;
using XdpLb.Core.Scheduling;

namespace XdpLb.Core.Tests.Scheduling;

/// <summary>hash_32, addr_fold and the 64-bit kernel's hsiphash against docs/ipvs.md §3 and §8.4–§8.5.</summary>
public sealed class IpvsHashTests
{
    private const ulong Hash1 = 2654435761UL;
    private const ulong Hash2 = 2654446892UL;

    [Fact]
    public void Hash32KeepsTheHighBitsOfTheGoldenRatioProduct()
    {
        Assert.Equal(0x61C88647u, IpvsHash.Hash32(1, 32));
        Assert.Equal(0x61C88647u >> 24, IpvsHash.Hash32(1, 8));
        Assert.Equal(unchecked(0x0AC8010Au * 0x61C88647u) >> 24, IpvsHash.Hash32(0x0AC8010A, 8));
        Assert.Equal(71u, IpvsHash.Hash32(0x0AC8010A, 8)); // 10.200.1.10, docs/ipvs.md §3.4
        Assert.Throws<ArgumentOutOfRangeException>(() => IpvsHash.Hash32(1, 0));
    }

    [Fact]
    public void AddrFoldIsTheHostOrderNumberOfTheAddress()
    {
        Assert.Equal(0x0AC8010Au, IpvsHash.AddrFold(IPAddress.Parse("10.200.1.10")));
        Assert.Equal(0xC0A80164u, IpvsHash.AddrFold(IPAddress.Parse("192.168.1.100")));
    }

    [Fact]
    public void AddrFoldXorsTheFourWordsOfAnIpv6Address()
    {
        Assert.Equal(0x20010DB8u ^ 0x00010002u ^ 0x00030004u ^ 0x00050006u,
            IpvsHash.AddrFold(IPAddress.Parse("2001:db8:1:2:3:4:5:6")));
        Assert.Equal(0x20010DB9u, IpvsHash.AddrFold(IPAddress.Parse("2001:db8::1")));
        // An IPv4-mapped IPv6 address is folded as IPv6: 0xffff ^ the IPv4 word.
        Assert.Equal(0x0000FFFFu ^ 0x0A000007u, IpvsHash.AddrFold(IPAddress.Parse("::ffff:10.0.0.7")));
    }

    [Theory]
    [InlineData("10.200.1.10", 0x186b5f74u, 1137)]
    [InlineData("10.0.0.7", 0xc3a4cd2au, 754)]
    public void HSipHashMatchesTheRealKernel(string address, uint expected, int slot)
    {
        uint v = IpvsHash.AddrFold(IPAddress.Parse(address));
        Assert.Equal(expected, IpvsHash.HSipHash(v, Hash1, Hash1));
        Assert.Equal((uint)slot, expected % 4093);
    }

    [Fact]
    public void TheUintFormHashesTheFourLittleEndianBytes()
    {
        byte[] bytes = [0x0A, 0x01, 0xC8, 0x0A]; // 0x0AC8010A in host (little-endian) order
        Assert.Equal(0x186b5f74u, IpvsHash.HSipHash(bytes, Hash1, Hash1));
        Assert.NotEqual(0x186b5f74u, IpvsHash.HSipHash([0x0A, 0xC8, 0x01, 0x0A], Hash1, Hash1));
    }

    [Fact]
    public void TheKeyWordsAndLengthMatter()
    {
        uint v = 0x0AC8010A;
        Assert.NotEqual(IpvsHash.HSipHash(v, Hash1, Hash1), IpvsHash.HSipHash(v, Hash2, Hash2));
        Assert.NotEqual(IpvsHash.HSipHash(v, Hash1, Hash1), IpvsHash.HSipHash(v, Hash1, Hash2));
        Assert.NotEqual(IpvsHash.HSipHash([0x0A, 0x01, 0xC8], Hash1, Hash1),
            IpvsHash.HSipHash([0x0A, 0x01, 0xC8, 0x00], Hash1, Hash1));
    }

    [Theory]
    // The SipHash paper / reference vectors.h: key 00..0f, message 00..(len-1).
    [InlineData(0, 0x726fdb47dd0e0e31UL)]
    [InlineData(15, 0xa129ca6149be45e5UL)]
    public void TheCoreAsSipHash24MatchesTheReferenceVectors(int length, ulong expected)
    {
        byte[] message = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        Assert.Equal(expected, IpvsHash.SipHash(message, 0x0706050403020100UL, 0x0F0E0D0C0B0A0908UL, 2, 4));
    }

    [Fact]
    public void HSipHashIsSipHash13TruncatedForLongInputsToo()
    {
        byte[] message = Enumerable.Range(0, 20).Select(i => (byte)(i * 7)).ToArray();
        Assert.Equal((uint)IpvsHash.SipHash(message, Hash1, Hash2, 1, 3), IpvsHash.HSipHash(message, Hash1, Hash2));
        Assert.NotEqual(IpvsHash.HSipHash(message, Hash1, Hash2), IpvsHash.HSipHash(message.AsSpan(0, 19), Hash1, Hash2));
    }
}
