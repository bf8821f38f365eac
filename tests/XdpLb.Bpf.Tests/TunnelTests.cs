using System.Buffers.Binary;
using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// forwarding: tun: the encapsulated bytes (this kernel has no IPIP to decapsulate them;
/// real-traffic tunnel tests belong to the IPVS issue's VM).
/// </summary>
public sealed class TunnelTests
{
    // routed: the node has a route to the backend, whose source IPVS (and xdplb) sends from;
    // otherwise the configured tunnel source stands in.
    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void PacketsAreEncapsulatedToTheBackendFromTheRoutesSource(bool v6, bool routed)
    {
        var vip = IPAddress.Parse(v6 ? "fd00:96::10" : "10.96.0.10");
        var client = IPAddress.Parse(v6 ? "fd00:1::2" : "10.0.1.2");
        var backend = IPAddress.Parse(v6 ? "fd00:50::2" : "10.0.50.2");
        var configured = IPAddress.Parse(v6 ? "fd00:99::9" : "10.99.0.9");
        var source = routed ? IPAddress.Parse(v6 ? "fd00:50::1" : "10.0.50.1") : configured;
        using var node = routed ? new ScratchNetns("tun", 1500, "10.0.50.1/24", "fd00:50::1/64") : new ScratchNetns("tun");
        var service = new Service { Address = vip, Port = 80, Forwarding = Forwarding.Tun, Backends = [new Backend(backend, 80)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        dp.Dataplane.SetTunnelSources(v6 ? null : configured, v6 ? configured : null);
        var inner = new PacketBuilder { Source = client, Destination = vip, SourcePort = 40000, DestPort = 80, Payload = "hello"u8.ToArray() }.Build();

        var result = node.TestRun(dp.Program.Ingress, inner);

        var frame = result.Packet;
        int outer = v6 ? 40 : 20;
        Assert.Equal(inner.Length + outer, frame.Length);
        Assert.Equal(inner[..12], frame[..12]);                                       // MACs kept (FIB has none here)
        var ip = frame.AsSpan(14);
        if (v6)
        {
            Assert.Equal(0x86dd, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
            Assert.Equal(41, ip[6]);                                                  // IPv6-in-IPv6
            Assert.Equal(inner.Length - 14, BinaryPrimitives.ReadUInt16BigEndian(ip[4..]));
            Assert.Equal(source, new IPAddress(ip.Slice(8, 16)));
            Assert.Equal(backend, new IPAddress(ip.Slice(24, 16)));
        }
        else
        {
            Assert.Equal(0x0800, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)));
            Assert.Equal(4, ip[9]);                                                   // IPIP
            Assert.Equal(inner.Length - 14 + 20, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
            Assert.True(InternetChecksum.Verifies(ip[..20]), "outer IPv4 header checksum");
            Assert.Equal(source, new IPAddress(ip.Slice(12, 4)));
            Assert.Equal(backend, new IPAddress(ip.Slice(16, 4)));
        }
        Assert.Equal(inner.AsSpan(14).ToArray(), frame.AsSpan(14 + outer).ToArray()); // the inner packet untouched
        Assert.Equal(1UL, dp.Counter(Counter.FwdTunnel));
        var (_, flow) = Assert.Single(dp.Program.Conntrack.Entries());                // no reply entry
        Assert.Equal(FlowFlags.Direct | FlowFlags.Tunnel, flow.Flags);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void APacketThatWouldNotFitOnceEncapsulatedIsAnsweredWithTheMtu(bool v6)
    {
        // A namespace whose route to the backend has MTU 1300: the FIB lookup sees it.
        using var ns = new ScratchNetns("mtu", 1300, "10.0.50.1/24", "fd00:50::1/64");

        var vip = IPAddress.Parse(v6 ? "fd00:96::10" : "10.96.0.10");
        var client = IPAddress.Parse(v6 ? "fd00:1::2" : "10.0.1.2");
        var backend = IPAddress.Parse(v6 ? "fd00:50::2" : "10.0.50.2");
        var service = new Service { Address = vip, Port = 80, Forwarding = Forwarding.Tun, Backends = [new Backend(backend, 80)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        dp.Dataplane.SetTunnelSources(IPAddress.Parse("10.0.50.1"), IPAddress.Parse("fd00:50::1"));
        var big = new PacketBuilder { Source = client, Destination = vip, DestPort = 80, FragmentField = 0x4000, Payload = new byte[1250] }.Build();
        var small = new PacketBuilder { Source = client, Destination = vip, DestPort = 80, SourcePort = 40001, FragmentField = 0x4000, Payload = new byte[100] }.Build();

        var tooBig = ns.TestRun(dp.Program.Ingress, big);
        var fits = ns.TestRun(dp.Program.Ingress, small);

        Assert.Equal(XdpAction.Tx, tooBig.Action);
        var icmp = tooBig.Packet.AsSpan(14 + (v6 ? 40 : 20));
        if (v6)
        {
            Assert.Equal((2, 0), (icmp[0], icmp[1]));                                   // packet too big
            Assert.Equal(1300u - 40, BinaryPrimitives.ReadUInt32BigEndian(icmp[4..]));
        }
        else
        {
            Assert.Equal((3, 4), (icmp[0], icmp[1]));                                   // fragmentation needed
            Assert.Equal(1300 - 20, BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]));
        }
        Assert.Equal(1UL, dp.Counter(Counter.TxTooBig));
        Assert.Equal(small.Length + (v6 ? 40 : 20), fits.Packet.Length);               // a packet that fits is encapsulated
        Assert.Equal(1UL, dp.Counter(Counter.FwdTunnel));
    }

    [Fact]
    public void WithoutARouteOrATunnelSourceThePacketGoesToTheStackUnencapsulated()
    {
        var service = new Service { Address = DataPathHarness.Vip, Port = 80, Forwarding = Forwarding.Tun, Backends = [new Backend(IPAddress.Parse("10.0.11.2"), 80)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        var inner = new PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, DestPort = 80 }.Build();
        using var unrouted = new ScratchNetns("tun");

        var result = unrouted.TestRun(dp.Program.Ingress, inner);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(inner, result.Packet);
        Assert.Equal(0UL, dp.Counter(Counter.FwdTunnel));
    }
}
