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
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PacketsAreEncapsulatedToTheBackendFromTheTunnelSource(bool v6)
    {
        var vip = IPAddress.Parse(v6 ? "fd00:96::10" : "10.96.0.10");
        var client = IPAddress.Parse(v6 ? "fd00:1::2" : "10.0.1.2");
        var backend = IPAddress.Parse(v6 ? "fd00:11::2" : "10.0.11.2");
        var source = IPAddress.Parse(v6 ? "fd00:11::1" : "10.0.11.1");
        var service = new Service { Address = vip, Port = 80, Forwarding = Forwarding.Tun, Backends = [new Backend(backend, 80)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        dp.Dataplane.SetTunnelSources(v6 ? null : source, v6 ? source : null);
        var inner = new PacketBuilder { Source = client, Destination = vip, SourcePort = 40000, DestPort = 80, Payload = "hello"u8.ToArray() }.Build();

        var result = dp.Run(inner);

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
        Assert.Equal(0x03, flow.Flags);
    }

    [Fact]
    public void WithoutATunnelSourceThePacketGoesToTheStackUnencapsulated()
    {
        var service = new Service { Address = DataPathHarness.Vip, Port = 80, Forwarding = Forwarding.Tun, Backends = [new Backend(IPAddress.Parse("10.0.11.2"), 80)] };
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        var inner = new PacketBuilder { Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, DestPort = 80 }.Build();

        var result = dp.Run(inner);

        Assert.Equal(XdpAction.Pass, result.Action);
        Assert.Equal(inner, result.Packet);
        Assert.Equal(0UL, dp.Counter(Counter.FwdTunnel));
    }
}
