using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// ICMP errors about NATed flows are translated so the receiving stack finds its socket, and
/// routed on (the mock-FIB build's route): the exact frame out is checked against one built
/// from scratch.
/// </summary>
public sealed class IcmpErrorTests
{
    private sealed record Setup(DataPathHarness Dp, IPAddress Vip, IPAddress Client, IPAddress Backend, bool V6) : IDisposable
    {
        public void Dispose() => Dp.Dispose();
    }

    private static Setup Open(bool v6)
    {
        var vip = IPAddress.Parse(v6 ? "fd00:96::10" : "10.96.0.10");
        var client = IPAddress.Parse(v6 ? "fd00:1::2" : "10.0.1.2");
        var backend = IPAddress.Parse(v6 ? "fd00:11::2" : "10.0.11.2");
        var dp = new DataPathHarness(DataPathHarness.Config(new Service { Address = vip, Port = 53, Protocol = Protocol.Udp, Backends = [new Backend(backend, 5353)] }), mockFib: true);
        // Open the flow: client:40000 -> VIP:53, forwarded to backend:5353.
        dp.Run(new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Udp, SourcePort = 40000, DestPort = 53 }.Build());
        return new Setup(dp, vip, client, backend, v6);
    }

    internal static (IPAddress Src, IPAddress Dst, byte[] Icmp) Parse(byte[] frame, bool v6)
    {
        var ip = frame.AsSpan(14);
        if (v6)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
            return (new IPAddress(ip.Slice(8, 16)), new IPAddress(ip.Slice(24, 16)), ip.Slice(40, length).ToArray());
        }
        Assert.True(InternetChecksum.Verifies(ip[..20]), "outer IPv4 header checksum");
        return (new IPAddress(ip.Slice(12, 4)), new IPAddress(ip.Slice(16, 4)), ip[20..BinaryPrimitives.ReadUInt16BigEndian(ip[2..])].ToArray());
    }

    // The quoted packet as translated: addresses and ports, but its UDP checksum left as the
    // original's, as IPVS leaves it (the quote is cut short; no one can check it anyway).
    private static byte[] QuotedAsTranslated(PacketBuilder translated, PacketBuilder original)
    {
        var frame = translated.Build();
        int checksum = 14 + (translated.IsV6 ? 40 : 20) + 6;
        original.Build().AsSpan(checksum, 2).CopyTo(frame.AsSpan(checksum));
        return frame;
    }

    internal static bool IcmpChecksumValid(byte[] icmp, IPAddress src, IPAddress dst, bool v6) =>
        InternetChecksum.Verifies(icmp, v6 ? InternetChecksum.PseudoHeaderSum(src, dst, 58, icmp.Length) : 0);

    [Theory]
    [InlineData(false, 3, 4)]   // fragmentation needed
    [InlineData(false, 3, 3)]   // port unreachable
    [InlineData(true, 2, 0)]    // packet too big
    [InlineData(true, 1, 4)]    // port unreachable
    public void ErrorFromTheBackendSideReachesTheClientAsFromTheVip(bool v6, byte type, byte code)
    {
        using var s = Open(v6);
        var sent = new PacketBuilder { Source = s.Client, Destination = s.Vip, Protocol = PacketBuilder.Udp, SourcePort = 40000, DestPort = 53, Payload = new byte[1400] };
        var forwarded = sent with { Destination = s.Backend, DestPort = 5353 };
        var error = IcmpErrorBuilder.Build(s.Backend, s.Client, type, code, forwarded.Build(), rest: 1280);

        var result = s.Dp.Run(error);

        // As if the VIP had sent the error about the packet the client sent, one hop nearer.
        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(IcmpErrorBuilder.Build(s.Vip, s.Client, type, code, QuotedAsTranslated(sent, forwarded), rest: 1280, ttl: 63,
                macs: (MockFib.RouterMac, MockFib.NextHopMac)),
            result.Packet);
        var (src, dst, icmp) = Parse(result.Packet, v6);
        Assert.Equal(s.Vip, src);
        Assert.Equal(s.Client, dst);
        Assert.True(IcmpChecksumValid(icmp, src, dst, v6), "ICMP checksum");
        var quoted = icmp.AsSpan(8);
        int qhdr = v6 ? 40 : 20;
        Assert.Equal(s.Vip, new IPAddress(v6 ? quoted.Slice(24, 16) : quoted.Slice(16, 4)));
        Assert.Equal(s.Client, new IPAddress(v6 ? quoted.Slice(8, 16) : quoted.Slice(12, 4)));
        Assert.Equal(53, BinaryPrimitives.ReadUInt16BigEndian(quoted[(qhdr + 2)..]));
        Assert.Equal(40000, BinaryPrimitives.ReadUInt16BigEndian(quoted[qhdr..]));
        if (!v6)
            Assert.True(InternetChecksum.Verifies(quoted[..20]), "quoted IPv4 header checksum");
        Assert.Equal(1280u, BinaryPrimitives.ReadUInt32BigEndian(icmp.AsSpan(4)));   // the MTU survives
        Assert.Equal(1UL, s.Dp.Counter(Counter.NatIcmpError));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ErrorFromTheClientSideReachesTheBackendAboutItsOwnReply(bool v6)
    {
        using var s = Open(v6);
        var replySent = new PacketBuilder { Source = s.Backend, Destination = s.Client, Protocol = PacketBuilder.Udp, SourcePort = 5353, DestPort = 40000 };
        var replySeen = replySent with { Source = s.Vip, SourcePort = 53 };
        byte type = v6 ? (byte)1 : (byte)3, code = v6 ? (byte)4 : (byte)3;
        var error = IcmpErrorBuilder.Build(s.Client, s.Vip, type, code, replySeen.Build());

        var result = s.Dp.Run(error);

        // As if the client had sent the backend an error about the reply the backend sent.
        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(IcmpErrorBuilder.Build(s.Client, s.Backend, type, code, QuotedAsTranslated(replySent, replySeen), ttl: 63,
                macs: (MockFib.RouterMac, MockFib.NextHopMac)),
            result.Packet);
        var (src, dst, icmp) = Parse(result.Packet, v6);
        Assert.Equal(s.Client, src);
        Assert.Equal(s.Backend, dst);
        Assert.True(IcmpChecksumValid(icmp, src, dst, v6), "ICMP checksum");
        var quoted = icmp.AsSpan(8);
        int qhdr = v6 ? 40 : 20;
        Assert.Equal(s.Backend, new IPAddress(v6 ? quoted.Slice(8, 16) : quoted.Slice(12, 4)));
        Assert.Equal(5353, BinaryPrimitives.ReadUInt16BigEndian(quoted[qhdr..]));
    }

    [Fact]
    public void ErrorAboutNoKnownFlowPassesUntouched()
    {
        using var s = Open(v6: false);
        var other = new PacketBuilder { Source = s.Client, Destination = s.Backend, Protocol = PacketBuilder.Udp, SourcePort = 41111, DestPort = 5353 }.Build();
        var error = IcmpErrorBuilder.Build(s.Backend, s.Client, 3, 3, other);

        var result = s.Dp.Run(error);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(error, result.Packet);
        Assert.Equal(1UL, s.Dp.Counter(Counter.PassNotL4));
    }

    [Fact]
    public void SctpIsLeftToTheStackAndCounted()
    {
        using var s = Open(v6: false);
        var sctp = new PacketBuilder { Source = s.Client, Destination = s.Vip, Protocol = 132, DestPort = 53 }.Build();

        var result = s.Dp.Run(sctp);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(sctp, result.Packet);
        Assert.Equal(1UL, s.Dp.Counter(Counter.PassSctp));
    }
}
