using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// forwarding: masq. The node's address towards the backend (the route's preferred source)
/// replaces the client's, on a port of masq.portRange that no other connection to that
/// backend holds; the backend's answer to that port goes back to the client from the VIP.
/// </summary>
public sealed class MasqTests : IDisposable
{
    // The node's side of the link to the backends, where the FIB lookup finds its source.
    private readonly ScratchNetns node = new("masq", 1500, "10.0.50.1/24", "fd00:50::1/64");

    private static readonly IPAddress NodeV4 = IPAddress.Parse("10.0.50.1"), NodeV6 = IPAddress.Parse("fd00:50::1");

    public void Dispose() => node.Dispose();

    private static (IPAddress Vip, IPAddress Client, IPAddress Backend, IPAddress Node) Addresses(bool v6) => v6
        ? (IPAddress.Parse("fd00:96::10"), IPAddress.Parse("fd00:1::2"), IPAddress.Parse("fd00:50::2"), NodeV6)
        : (IPAddress.Parse("10.96.0.10"), IPAddress.Parse("10.0.1.2"), IPAddress.Parse("10.0.50.2"), NodeV4);

    private static Service Masq(IPAddress vip, Protocol protocol, params IPAddress[] backends) => new()
    {
        Address = vip, Port = 80, Protocol = protocol, Forwarding = Forwarding.Masq,
        Backends = backends.Select(b => new Backend(b, 8080)).ToList(),
    };

    private static LbConfig Config(PortRange range, params Service[] services) =>
        DataPathHarness.Config(services) with { Masq = new MasqSettings { PortRange = range } };

    [Theory]
    [InlineData(false, PacketBuilder.Tcp)]
    [InlineData(true, PacketBuilder.Tcp)]
    [InlineData(false, PacketBuilder.Udp)]
    [InlineData(true, PacketBuilder.Udp)]
    public void RequestLeavesFromTheNodeAndTheAnswerReturnsFromTheVip(bool v6, byte proto)
    {
        var (vip, client, backend, nodeAddr) = Addresses(v6);
        var protocol = proto == PacketBuilder.Tcp ? Protocol.Tcp : Protocol.Udp;
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), Masq(vip, protocol, backend)));
        var request = new PacketBuilder { Source = client, Destination = vip, Protocol = proto, SourcePort = 33333, DestPort = 80, Payload = "ping"u8.ToArray() };

        var sent = ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, request.Build()).Packet);

        Assert.Equal((backend, (ushort)8080), (sent.Destination, sent.DestPort));
        Assert.Equal(nodeAddr, sent.Source);
        Assert.InRange(sent.SourcePort, 40000, 40999);
        Assert.True(sent.IpChecksumValid && sent.L4ChecksumValid, "checksums after both rewrites");
        Assert.Equal("ping"u8.ToArray(), sent.Payload);

        var answer = new PacketBuilder
        {
            Source = backend, Destination = nodeAddr, Protocol = proto, SourcePort = 8080, DestPort = sent.SourcePort,
            Flags = TcpFlags.Syn | TcpFlags.Ack, Payload = "pong"u8.ToArray(),
        };
        var back = ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, answer.Build()).Packet);

        Assert.Equal((vip, (ushort)80), (back.Source, back.SourcePort));
        Assert.Equal((client, (ushort)33333), (back.Destination, back.DestPort));
        Assert.True(back.IpChecksumValid && back.L4ChecksumValid, "checksums of the answer");
        Assert.Equal(1UL, dp.Counter(Counter.NatReply));
        Assert.All(dp.Program.Conntrack.Entries(), e => Assert.True(e.Value.Flags.HasFlag(FlowFlags.Masq), $"{e.Value.Flags}"));
        // A UDP flow is assured by its first answer; TCP only at ESTABLISHED (a SYN-ACK is no proof).
        var opened = dp.Program.Conntrack.Entries().Single(e => e.Value.Direction == FlowDirection.Request).Value;
        Assert.Equal(proto == PacketBuilder.Udp, opened.Flags.HasFlag(FlowFlags.Assured));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MasqueradeOutsideClusterRewritesOnlyClientsOutsideTheClusterCidrs(bool v6)
    {
        var (vip, client, backend, nodeAddr) = Addresses(v6);
        var pod = IPAddress.Parse(v6 ? "fd00:244::7" : "10.244.3.7");
        var service = new Service
        {
            Address = vip, Port = 80, Forwarding = Forwarding.Nat, MasqueradeOutsideCluster = true,
            Backends = [new Backend(backend, 8080)],
        };
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), service) with { ClusterCidrs = ["10.244.0.0/16", "fd00:244::/48"] });
        PacketBuilder Syn(IPAddress from) => new() { Source = from, Destination = vip, Protocol = PacketBuilder.Tcp, SourcePort = 33333, DestPort = 80, Flags = TcpFlags.Syn };

        var fromPod = ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, Syn(pod).Build()).Packet);
        Assert.Equal((pod, (ushort)33333), (fromPod.Source, fromPod.SourcePort));
        Assert.Equal((backend, (ushort)8080), (fromPod.Destination, fromPod.DestPort));

        var fromOutside = ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, Syn(client).Build()).Packet);
        Assert.Equal(nodeAddr, fromOutside.Source);
        Assert.InRange(fromOutside.SourcePort, 40000, 40999);
        Assert.True(fromOutside.IpChecksumValid && fromOutside.L4ChecksumValid);

        // The ranges go: every client is outside now, and nothing is left under the cluster's ids.
        dp.Dataplane.SetClusterCidrs([]);
        Assert.DoesNotContain(dp.Program.SourceRanges.Keys(), k => k.ServiceId >= 0xfffffffe);
        var podAfter = ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, (Syn(pod) with { SourcePort = 33334 }).Build()).Packet);
        Assert.Equal(nodeAddr, podAfter.Source);
    }

    [Fact]
    public void AnIPv6ClusterRangeNeverHoldsAnIPv4Client()
    {
        var (vip, _, backend, nodeAddr) = Addresses(v6: false);
        // 32.1.13.184 is 20 01 0d b8: the first bytes of 2001:db8::/64.
        var client = IPAddress.Parse("32.1.13.184");
        var service = new Service { Address = vip, Port = 80, MasqueradeOutsideCluster = true, Backends = [new Backend(backend, 8080)] };
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), service) with { ClusterCidrs = ["2001:db8::/64"] });
        var syn = new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Tcp, SourcePort = 33333, DestPort = 80, Flags = TcpFlags.Syn };
        Assert.Equal(nodeAddr, ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, syn.Build()).Packet).Source);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LaterFragmentsGetBothRewritesOfTheirFirst(bool v6)
    {
        var (vip, client, backend, nodeAddr) = Addresses(v6);
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), Masq(vip, Protocol.Udp, backend)));
        var payload = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        var datagram = new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Udp, DestPort = 80, Payload = payload }.Build();

        var outputs = Fragmenter.Fragment(datagram, 1232).Select(f => node.TestRun(dp.Program.Ingress, f).Packet).ToList();

        foreach (var frame in outputs)
        {
            var ip = frame.AsSpan(14);
            var (source, destination) = v6 ? (new IPAddress(ip.Slice(8, 16)), new IPAddress(ip.Slice(24, 16))) : (new IPAddress(ip.Slice(12, 4)), new IPAddress(ip.Slice(16, 4)));
            Assert.Equal((nodeAddr, backend), (source, destination));
            if (!v6)
                Assert.True(InternetChecksum.Verifies(ip[..20]), "IPv4 header checksum of a fragment");
        }
        Assert.Equal(2UL, dp.Counter(Counter.NatFragment));
    }

    // The flow client:33333 -> VIP:80, sent on as node:port -> backend:8080 (returned).
    private ushort OpenUdp(DataPathHarness dp, IPAddress vip, IPAddress client) =>
        ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, new PacketBuilder { Source = client, Destination = vip, Protocol = PacketBuilder.Udp, SourcePort = 33333, DestPort = 80 }.Build()).Packet).SourcePort;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnErrorFromTheBackendSideReachesTheClientAboutItsOwnDatagram(bool v6)
    {
        var (vip, client, backend, nodeAddr) = Addresses(v6);
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), Masq(vip, Protocol.Udp, backend)));
        ushort port = OpenUdp(dp, vip, client);
        var forwarded = new PacketBuilder { Source = nodeAddr, Destination = backend, Protocol = PacketBuilder.Udp, SourcePort = port, DestPort = 8080, Payload = new byte[1400] }.Build();

        // Fragmentation needed / packet too big on the way to the backend: the client must learn the MTU.
        var result = node.TestRun(dp.Program.Ingress, IcmpErrorBuilder.Build(backend, nodeAddr, v6 ? (byte)2 : (byte)3, v6 ? (byte)0 : (byte)4, forwarded, rest: 1280));

        var (src, dst, icmp) = IcmpErrorTests.Parse(result.Packet, v6);
        Assert.Equal((vip, client), (src, dst));
        Assert.True(IcmpErrorTests.IcmpChecksumValid(icmp, src, dst, v6), "ICMP checksum");
        var q = ParsedQuote(icmp, v6);
        Assert.Equal((client, (ushort)33333, vip, (ushort)80), q);
        Assert.Equal(1UL, dp.Counter(Counter.NatIcmpError));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnErrorFromTheClientSideReachesTheBackendAboutItsOwnAnswer(bool v6)
    {
        var (vip, client, backend, nodeAddr) = Addresses(v6);
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), Masq(vip, Protocol.Udp, backend)));
        ushort port = OpenUdp(dp, vip, client);
        var answerSeen = new PacketBuilder { Source = vip, Destination = client, Protocol = PacketBuilder.Udp, SourcePort = 80, DestPort = 33333 }.Build();

        var result = node.TestRun(dp.Program.Ingress, IcmpErrorBuilder.Build(client, vip, v6 ? (byte)1 : (byte)3, v6 ? (byte)4 : (byte)3, answerSeen));

        var (src, dst, icmp) = IcmpErrorTests.Parse(result.Packet, v6);
        Assert.Equal((nodeAddr, backend), (src, dst));
        Assert.True(IcmpErrorTests.IcmpChecksumValid(icmp, src, dst, v6), "ICMP checksum");
        Assert.Equal((backend, (ushort)8080, nodeAddr, port), ParsedQuote(icmp, v6));
    }

    private static (IPAddress Src, ushort SrcPort, IPAddress Dst, ushort DstPort) ParsedQuote(byte[] icmp, bool v6)
    {
        var quoted = icmp.AsSpan(8);
        int header = v6 ? 40 : 20;
        if (!v6)
            Assert.True(InternetChecksum.Verifies(quoted[..20]), "quoted IPv4 header checksum");
        return (new IPAddress(v6 ? quoted.Slice(8, 16) : quoted.Slice(12, 4)), System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(quoted[header..]),
            new IPAddress(v6 ? quoted.Slice(24, 16) : quoted.Slice(16, 4)), System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(quoted[(header + 2)..]));
    }

    [Fact]
    public void PortsAreNeverSharedAndAFullRangeRefusesNewConnections()
    {
        var (vip, _, backend, _) = Addresses(false);
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40007), Masq(vip, Protocol.Tcp, backend)));

        // Eight clients fill the eight ports towards the one backend.
        var ports = Enumerable.Range(0, 8).Select(i =>
        {
            var syn = new PacketBuilder { Source = IPAddress.Parse($"10.0.1.{10 + i}"), Destination = vip, DestPort = 80 };
            return ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, syn.Build()).Packet).SourcePort;
        }).ToList();
        var ninth = node.TestRun(dp.Program.Ingress, new PacketBuilder { Source = IPAddress.Parse("10.0.1.99"), Destination = vip, DestPort = 80 }.Build());

        Assert.Equal(Enumerable.Range(40000, 8).Select(p => (ushort)p), ports.Order());
        Assert.Equal(XdpAction.Drop, ninth.Action);
        Assert.Equal(1UL, dp.Counter(Counter.DropMasqNoPort));
        Assert.Equal(16, dp.Program.Conntrack.Count());
    }

    [Fact]
    public void ExpiringAConnectionFreesItsPort()
    {
        var (vip, _, backend, _) = Addresses(false);
        var service = Masq(vip, Protocol.Tcp, backend);
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40000), service));
        var first = new PacketBuilder { Source = IPAddress.Parse("10.0.1.10"), Destination = vip, DestPort = 80 }.Build();
        var second = new PacketBuilder { Source = IPAddress.Parse("10.0.1.11"), Destination = vip, DestPort = 80 }.Build();
        node.TestRun(dp.Program.Ingress, first);
        Assert.Equal(XdpAction.Drop, node.TestRun(dp.Program.Ingress, second).Action);

        // The control plane's expiry finds the reply entry through the masq address and port.
        int expired = dp.Dataplane.Sweeper.ExpireBackends(new HashSet<uint> { dp.Dataplane.BackendId(service.Key!, service.Backends[0]) });

        Assert.Equal(1, expired);
        Assert.Equal(0, dp.Program.Conntrack.Count());
        Assert.Equal(40000, ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, second).Packet).SourcePort);
    }

    [Fact]
    public void ABackendReachingItsOwnNatServiceIsMasqueradedAsKubeProxyDoes()
    {
        var (vip, _, backend, nodeAddr) = Addresses(false);
        var service = Masq(vip, Protocol.Tcp, backend) with { Forwarding = Forwarding.Nat };
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), service));

        var fromItself = ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, new PacketBuilder { Source = backend, Destination = vip, DestPort = 80 }.Build()).Packet);
        var fromClient = ParsedPacket.Parse(node.TestRun(dp.Program.Ingress, new PacketBuilder { Source = IPAddress.Parse("10.0.1.2"), Destination = vip, DestPort = 80 }.Build()).Packet);

        Assert.Equal((nodeAddr, backend), (fromItself.Source, fromItself.Destination));
        Assert.Equal(IPAddress.Parse("10.0.1.2"), fromClient.Source);                        // others keep their address
    }

    [Fact]
    public void WithoutARouteToTheBackendTheConnectionIsRefusedAndCounted()
    {
        var vip = IPAddress.Parse("10.96.0.10");
        using var dp = new DataPathHarness(Config(new PortRange(40000, 40999), Masq(vip, Protocol.Tcp, IPAddress.Parse("192.0.2.7"))));

        var result = node.TestRun(dp.Program.Ingress, new PacketBuilder { Source = IPAddress.Parse("10.0.1.2"), Destination = vip, DestPort = 80 }.Build());

        Assert.Equal(XdpAction.Drop, result.Action);
        Assert.Equal(1UL, dp.Counter(Counter.DropMasqNoRoute));
        Assert.Equal(0, dp.Program.Conntrack.Count());
    }
}
