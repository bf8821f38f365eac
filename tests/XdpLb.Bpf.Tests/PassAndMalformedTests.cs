using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>What is not for a service leaves untouched; broken packets are never read past their end.</summary>
public sealed class PassAndMalformedTests
{
    private static PacketBuilder Syn => new() { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, DestPort = 80 };

    public static TheoryData<string, byte[]> NotForAService => new()
    {
        { "other address", (Syn with { Destination = IPAddress.Parse("10.96.0.11") }).Build() },
        { "other port", (Syn with { DestPort = 443 }).Build() },
        { "other protocol", (Syn with { Protocol = PacketBuilder.Udp }).Build() },
        { "ipv6 to no service", (Syn with { Source = IPAddress.Parse("fd00::1"), Destination = IPAddress.Parse("fd00::2") }).Build() },
        { "arp", ArpRequest() },
    };

    [Theory]
    [MemberData(nameof(NotForAService))]
    public void TrafficNotForAServicePassesByteIdentical(string what, byte[] frame)
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));

        var result = dp.Run(frame);

        Assert.True(result.Action == XdpAction.Pass, $"{what}: {result.Action}");
        Assert.Equal(frame, result.Packet);
        Assert.Empty(dp.Program.Conntrack.Keys());
    }

    [Fact]
    public void Ipv4OptionsAreSkippedByIhl()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        // Two NOPs and an end-of-options list: 4 bytes of options, IHL 6.
        var packet = ParsedPacket.Parse(dp.Run((Syn with { Ipv4Options = [1, 1, 0, 0] }).Build()).Packet);

        Assert.Equal(DataPathHarness.BackendAddresses[2], packet.Destination);
        Assert.True(packet.IpChecksumValid);
        Assert.True(packet.L4ChecksumValid);
    }

    private static readonly PacketBuilder Syn6 = Syn with { Source = IPAddress.Parse("fd00:1::2"), Destination = IPAddress.Parse("fd00:96::10") };
    private static readonly PacketBuilder Udp4 = Syn with { Protocol = PacketBuilder.Udp };

    public static TheoryData<string, byte[]> TruncationPoints => new()
    {
        { "ethernet only", Syn.Build()[..14] },
        { "inside the IPv4 header", Syn.Build()[..(14 + 10)] },
        { "IPv4 header, no TCP", Syn.Build()[..(14 + 20)] },
        { "inside the TCP header", Syn.Build()[..(14 + 20 + 12)] },
        { "one byte short of TCP", Syn.Build()[..(14 + 20 + 19)] },
        { "IPv4 header, no UDP", Udp4.Build()[..(14 + 20)] },
        { "one byte short of UDP", Udp4.Build()[..(14 + 20 + 7)] },
        { "inside the IPv6 header", Syn6.Build()[..(14 + 39)] },
        { "IPv6 header, no TCP", Syn6.Build()[..(14 + 40)] },
        { "inside the TCP header over IPv6", Syn6.Build()[..(14 + 40 + 19)] },
        { "IPv6 extension header cut", Ipv6WithHopByHop()[..(14 + 40 + 1)] },
    };

    [Theory]
    [MemberData(nameof(TruncationPoints))]
    public void TruncatedHeadersArePassedAndCountedWithoutOutOfBoundsReads(string what, byte[] frame)
    {
        var v6Service = new Service { Address = IPAddress.Parse("fd00:96::10"), Port = 80, Backends = [new Backend(IPAddress.Parse("fd00:11::2"), 8080)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(), DataPathHarness.WebService(Protocol.Udp), v6Service));

        var result = dp.Run(frame);

        // The verifier proves no out-of-bounds read can happen; this proves the outcome.
        Assert.True(result.Action == XdpAction.Pass, $"{what}: {result.Action}");
        Assert.Equal(frame, result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.Malformed));
        Assert.Empty(dp.Program.Conntrack.Keys());
    }

    private static byte[] Ipv6WithHopByHop()
    {
        var plain = Syn6.Build();
        var frame = new byte[plain.Length + 8];
        plain.AsSpan(0, 54).CopyTo(frame);
        frame[14 + 6] = 0; // hop-by-hop
        frame[54] = PacketBuilder.Tcp;
        plain.AsSpan(54).CopyTo(frame.AsSpan(62));
        return frame;
    }

    public static TheoryData<string, Func<byte[], byte[]>> Inconsistencies => new()
    {
        { "IHL below 5", f => { f[14] = 0x44; return f; } },
        { "IHL beyond the packet", f => { f[14] = 0x4f; return f; } },
        { "IPv4 version field says 5", f => { f[14] = 0x55; return f; } },
        { "total length shorter than the header", f => { f[16] = 0; f[17] = 8; return f; } },
        { "TCP data offset below 5", f => { f[14 + 20 + 12] = 0x40; return f; } },
    };

    [Theory]
    [MemberData(nameof(Inconsistencies))]
    public void InconsistentHeadersArePassedAndCounted(string what, Func<byte[], byte[]> corrupt)
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        var frame = corrupt(Syn.Build());

        var result = dp.Run(frame);

        Assert.True(result.Action == XdpAction.Pass, $"{what}: {result.Action}");
        Assert.Equal(frame, result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.Malformed));
    }

    private static byte[] ArpRequest()
    {
        var frame = new byte[42];
        for (int i = 0; i < 6; i++)
            frame[i] = 0xff;
        frame[6] = 0x02;
        frame[12] = 0x08;
        frame[13] = 0x06;
        return frame;
    }
}
