using System.Buffers.Binary;
using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// IP fragments follow their first fragment; IPv6 extension headers are walked to the
/// transport header. On the mock-FIB build, so every fragment's verdict and bytes are known.
/// </summary>
public sealed class FragmentTests
{
    private static readonly IPAddress Vip6 = IPAddress.Parse("fd00:96::10"), Client6 = IPAddress.Parse("fd00:1::2"), Backend6 = IPAddress.Parse("fd00:11::2");

    private static (DataPathHarness Dp, IPAddress Vip, IPAddress Client, IPAddress Backend) Setup(bool ipv6)
    {
        var vip = ipv6 ? Vip6 : DataPathHarness.Vip;
        var backend = ipv6 ? Backend6 : DataPathHarness.BackendAddresses[0];
        var service = new Service { Address = vip, Port = 53, Protocol = Protocol.Udp, Backends = [new Backend(backend, 5353)] };
        return (new DataPathHarness(DataPathHarness.Config(service), mockFib: true), vip, ipv6 ? Client6 : DataPathHarness.Client, backend);
    }

    private static byte[] Reassemble(IEnumerable<byte[]> fragments, bool ipv6)
    {
        // The IP payloads in offset order, as the receiver's stack puts them together.
        var parts = fragments.Select(f =>
        {
            var ip = f.AsSpan(14);
            int offset = ipv6 ? BinaryPrimitives.ReadUInt16BigEndian(ip[42..]) & 0xfff8 : (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x1fff) * 8;
            int header = ipv6 ? 48 : (ip[0] & 0x0f) * 4;
            return (offset, data: ip[header..].ToArray());
        }).OrderBy(p => p.offset);
        return parts.SelectMany(p => p.data).ToArray();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void FragmentsOfADatagramAllGoToItsBackendAndReassembleWithAValidChecksum(bool ipv6)
    {
        var (dp, vip, client, backend) = Setup(ipv6);
        using var _ = dp;
        var payload = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        var datagram = new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Udp, SourcePort = 40000, DestPort = 53, Payload = payload };
        var fragments = Fragmenter.Fragment(datagram.Build(), 1232);

        var outputs = fragments.Select(f => dp.Run(f)).ToList();

        // As if the client had sent the translated datagram, one hop nearer, by the route.
        var expected = Fragmenter.Fragment(dp.Routed(datagram with { Destination = backend, DestPort = 5353 }).Build(), 1232);
        Assert.Equal(3, outputs.Count);
        Assert.All(outputs, o => Assert.Equal(XdpAction.Redirect, o.Action));
        Assert.Equal(expected, outputs.Select(o => o.Packet));
        var udp = Reassemble(outputs.Select(o => o.Packet), ipv6);
        Assert.Equal(5353, BinaryPrimitives.ReadUInt16BigEndian(udp.AsSpan(2)));
        Assert.True(InternetChecksum.Verifies(udp, InternetChecksum.PseudoHeaderSum(client, backend, PacketBuilder.Udp, udp.Length)), "UDP checksum of the reassembled datagram");
        Assert.Equal(payload, udp[8..]);
        Assert.Equal(2UL, dp.Counter(Counter.NatFragment));
    }

    [Theory]
    [InlineData(Forwarding.Dr)]
    [InlineData(Forwarding.Tun)]
    public void LaterFragmentsFollowTheirFirstByDirectRoutingAndTunnel(Forwarding forwarding)
    {
        var backend = DataPathHarness.BackendAddresses[0];
        var node = IPAddress.Parse("10.0.11.1");
        var service = new Service { Address = DataPathHarness.Vip, Port = 53, Protocol = Protocol.Udp, Forwarding = forwarding, Backends = [new Backend(backend, 53)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service), mockFib: true);
        dp.SetFib(MockFib.Route(MockFib.EgressIfindex, MockFib.RouterMac, MockFib.NextHopMac, source: node));
        var datagram = new PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp, DestPort = 53, Payload = new byte[3000] };
        var fragments = Fragmenter.Fragment(datagram.Build(), 1232);

        var outputs = fragments.Select(f => dp.Run(f)).ToList();

        // dr: each fragment as it came but for the route's MACs and one hop less; tun: each
        // fragment untouched inside IPIP from the route's source to the backend.
        var expected = forwarding == Forwarding.Dr
            ? Fragmenter.Fragment(dp.Routed(datagram).Build(), 1232)
            : fragments.Select(f => TunnelFrame.Ipip(f, node, backend, ttl: 63, MockFib.RouterMac, MockFib.NextHopMac)).ToList();
        Assert.All(outputs, o => Assert.Equal(XdpAction.Redirect, o.Action));
        Assert.Equal(expected, outputs.Select(o => o.Packet));
        Assert.Equal(0UL, dp.Counter(Counter.PassFragment));
        Assert.Equal(3UL, dp.Counter(forwarding == Forwarding.Dr ? Counter.FwdDirect : Counter.FwdTunnel));
        Assert.Equal(3UL, dp.Program.ReadAllTraffic(dp.Dataplane.BackendIdLimit)[dp.Dataplane.BackendId(service.Key!, service.Backends[0])].PacketsIn);
    }

    [Fact]
    public void RepliesAreFragmentedToo()
    {
        var (dp, vip, client, backend) = Setup(ipv6: false);
        using var _ = dp;
        dp.Run(new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Udp, SourcePort = 40000, DestPort = 53 }.Build());
        var answer = new PacketBuilder { Source = backend, Destination = client, Protocol = PacketBuilder.Udp, SourcePort = 5353, DestPort = 40000, Payload = new byte[2000] };

        var outputs = Fragmenter.Fragment(answer.Build(), 1480).Select(f => dp.Run(f)).ToList();

        Assert.All(outputs, o => Assert.Equal(XdpAction.Redirect, o.Action));
        Assert.Equal(Fragmenter.Fragment(dp.Routed(answer with { Source = vip, SourcePort = 53 }).Build(), 1480), outputs.Select(o => o.Packet));
    }

    [Fact]
    public void ALaterFragmentBeforeItsFirstIsLeftToTheStack()
    {
        var (dp, vip, client, _) = Setup(ipv6: false);
        using var __ = dp;
        var datagram = new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Udp, DestPort = 53, Payload = new byte[3000] }.Build();
        var later = Fragmenter.Fragment(datagram, 1480)[1];

        var result = dp.Run(later);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(later, result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.PassFragment));
    }

    [Fact]
    public void Ipv6ExtensionHeadersAreWalkedToTheTransportHeader()
    {
        var (dp, vip, client, backend) = Setup(ipv6: true);
        using var _ = dp;
        var plain = new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Udp, SourcePort = 40000, DestPort = 53, Payload = [1, 2, 3, 4] };

        var result = dp.Run(WithHopByHop(plain.Build()));

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(WithHopByHop(dp.Routed(plain with { Destination = backend, DestPort = 5353 }).Build()), result.Packet);
    }

    // A hop-by-hop options header (8 bytes: next header, length 0, PadN) inserted before UDP.
    private static byte[] WithHopByHop(byte[] plain)
    {
        var frame = new byte[plain.Length + 8];
        plain.AsSpan(0, 54).CopyTo(frame);
        frame[14 + 6] = 0;                                                     // next header: hop-by-hop
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14 + 4), (ushort)(plain.Length - 54 + 8));
        frame[54] = PacketBuilder.Udp;
        frame[55] = 0;
        frame[56] = 1;                                                         // PadN, 4 bytes of padding
        frame[57] = 4;
        plain.AsSpan(54).CopyTo(frame.AsSpan(62));
        return frame;
    }
}
