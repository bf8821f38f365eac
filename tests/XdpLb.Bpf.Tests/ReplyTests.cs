using System.Buffers.Binary;
using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>Answers the data path sends itself: TCP resets and ICMP/ICMPv6 port unreachable.</summary>
public sealed class ReplyTests
{
    private static readonly IPAddress Vip6 = IPAddress.Parse("fd00:96::10"), Client6 = IPAddress.Parse("fd00:1::2");

    [Theory]
    [InlineData(false, PacketBuilder.Tcp)]
    [InlineData(false, PacketBuilder.Udp)]
    [InlineData(true, PacketBuilder.Tcp)]
    [InlineData(true, PacketBuilder.Udp)]
    public void ServiceWithoutBackendsAnswersPortUnreachable(bool ipv6, byte protocol)
    {
        var vip = ipv6 ? Vip6 : DataPathHarness.Vip;
        var client = ipv6 ? Client6 : DataPathHarness.Client;
        var service = new Service { Address = vip, Port = 80, Protocol = protocol == PacketBuilder.Tcp ? Protocol.Tcp : Protocol.Udp };
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        var request = new PacketBuilder { Source = client, Destination = vip, Protocol = protocol, SourcePort = 40000, DestPort = 80, Payload = new byte[100] }.Build();

        var result = dp.Run(request);

        Assert.Equal(XdpAction.Tx, result.Action);
        var frame = result.Packet;
        Assert.Equal(request[6..12], frame[0..6]);                          // back to the client's MAC
        Assert.Equal(request[0..6], frame[6..12]);
        int ipLength = ipv6 ? 40 : 20;
        var ip = frame.AsSpan(14);
        var icmp = ip[ipLength..];
        var quoted = icmp[8..];
        if (ipv6)
        {
            Assert.Equal(58, ip[6]);
            Assert.Equal(vip, new IPAddress(ip.Slice(8, 16)));
            Assert.Equal(client, new IPAddress(ip.Slice(24, 16)));
            Assert.Equal((1, 4), (icmp[0], icmp[1]));                        // destination unreachable, port unreachable
            int length = BinaryPrimitives.ReadUInt16BigEndian(ip[4..]);
            Assert.Equal(8 + 40 + 8, length);
            Assert.True(InternetChecksum.Verifies(icmp[..length], InternetChecksum.PseudoHeaderSum(vip, client, 58, length)), "ICMPv6 checksum");
            Assert.Equal(request.AsSpan(14, 48).ToArray(), quoted[..48].ToArray());
        }
        else
        {
            Assert.Equal(1, ip[9]);
            Assert.True(InternetChecksum.Verifies(ip[..20]), "IPv4 header checksum");
            Assert.Equal(vip, new IPAddress(ip.Slice(12, 4)));
            Assert.Equal(client, new IPAddress(ip.Slice(16, 4)));
            Assert.Equal((3, 3), (icmp[0], icmp[1]));
            int length = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) - 20;
            Assert.Equal(8 + 20 + 8, length);
            Assert.True(InternetChecksum.Verifies(icmp[..length]), "ICMP checksum");
            Assert.Equal(request.AsSpan(14, 28).ToArray(), quoted[..28].ToArray());
        }
        Assert.Equal(1UL, dp.Counter(Counter.TxPortUnreach));
        Assert.Equal(1UL, dp.Counter(Counter.DropNoBackend));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SegmentOfNoConnectionGetsAReset(bool ipv6)
    {
        var vip = ipv6 ? Vip6 : DataPathHarness.Vip;
        var client = ipv6 ? Client6 : DataPathHarness.Client;
        var service = new Service { Address = vip, Port = 80, Backends = [new Backend(ipv6 ? IPAddress.Parse("fd00:11::2") : DataPathHarness.BackendAddresses[0], 8080)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        var segment = new PacketBuilder { Source = client, Destination = vip, SourcePort = 40001, DestPort = 80, Flags = TcpFlags.Ack | TcpFlags.Psh, Payload = new byte[200] }.Build();

        var result = dp.Run(segment);

        Assert.Equal(XdpAction.Tx, result.Action);
        var reset = ParsedPacket.Parse(result.Packet);
        Assert.Equal(vip, reset.Source);
        Assert.Equal(80, reset.SourcePort);
        Assert.Equal(client, reset.Destination);
        Assert.Equal(40001, reset.DestPort);
        Assert.True(reset.IpChecksumValid);
        Assert.True(reset.L4ChecksumValid, "TCP checksum of the reset");
        Assert.Empty(reset.Payload);
        var tcp = result.Packet.AsSpan(14 + (ipv6 ? 40 : 20));
        Assert.Equal((byte)TcpFlags.Rst, tcp[13]);                             // RST alone: the segment had ACK
        Assert.Equal(2000u, BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]));    // seq = the segment's ack
        Assert.Equal(1UL, dp.Counter(Counter.TxTcpReset));
        Assert.Empty(dp.Program.Conntrack.Keys());
    }

    [Fact]
    public void ResetOfNoConnectionIsNotAnswered()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        var rst = new PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, DestPort = 80, Flags = TcpFlags.Rst }.Build();

        var result = dp.Run(rst);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(rst, result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.PassNoFlowNonSyn));
    }
}
