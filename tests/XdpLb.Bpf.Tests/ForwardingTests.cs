using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf.Tests;

/// <summary>New flows, established flows and replies through the data path, IPv4 and IPv6, TCP and UDP.</summary>
public sealed class ForwardingTests
{
    private static PacketBuilder Syn(ushort sourcePort) => new()
    {
        Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, SourcePort = sourcePort, DestPort = 80, Flags = TcpFlags.Syn,
    };

    [Fact]
    public void SynToVipLeavesDnatedToBackendWithValidChecksums()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        dp.SetFib(MockFib.Route(ifindex: 7, [0x02, 0, 0, 0, 0, 0xaa], [0x02, 0, 0, 0, 0, 0xbb]));
        var (result, packet) = dp.RunParsed(Syn(40000) with { Payload = "hello"u8.ToArray() });

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(DataPathHarness.BackendAddresses[2], packet.Destination); // the last-listed is picked first
        Assert.Equal(8080, packet.DestPort);
        Assert.Equal(DataPathHarness.Client, packet.Source);
        Assert.Equal(40000, packet.SourcePort);
        Assert.True(packet.IpChecksumValid, "IPv4 header checksum");
        Assert.True(packet.L4ChecksumValid, "TCP checksum");
        Assert.Equal("hello"u8.ToArray(), packet.Payload);
        Assert.Equal(1UL, dp.Counter(Counter.NewFlow));
    }

    [Fact]
    public void NewFlowsFollowIpvsRoundRobinOrder()
    {
        var service = DataPathHarness.WebService();
        using var dp = new DataPathHarness(DataPathHarness.Config(service));
        var reference = new IpvsRoundRobinModel();
        foreach (var b in service.Backends)
            reference.Add(b);

        var picked = Enumerable.Range(0, 9).Select(i => dp.RunParsed(Syn((ushort)(41000 + i))).Packet.Destination).ToList();

        // Listed 1,2,3 (added in that order, each at the head of IPVS's list) are picked 3,2,1,3,...
        var expected = Enumerable.Range(0, 9).Select(i => DataPathHarness.BackendAddresses[2 - i % 3]).ToList();
        Assert.Equal(expected, picked);
        Assert.Equal(Enumerable.Range(0, 9).Select(_ => reference.Schedule()!.Address).ToList(), picked);
    }

    [Fact]
    public void LaterPacketsOfAFlowStayOnItsBackend()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        var first = dp.RunParsed(Syn(42000)).Packet.Destination;
        dp.RunParsed(Syn(42001));
        dp.RunParsed(Syn(42002));

        var ack = dp.RunParsed(Syn(42000) with { Flags = TcpFlags.Ack | TcpFlags.Psh, Payload = "GET /"u8.ToArray() });

        Assert.Equal(first, ack.Packet.Destination);
        Assert.True(ack.Packet.L4ChecksumValid);
        Assert.Equal(3UL, dp.Counter(Counter.NewFlow));
        Assert.Equal(4UL, dp.Counter(Counter.NatRequest));
    }

    [Fact]
    public void BackendReplyLeavesWithTheVipAsSource()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()));
        var backend = dp.RunParsed(Syn(43000)).Packet.Destination;

        var reply = new PacketBuilder
        {
            Source = backend, Destination = DataPathHarness.Client, SourcePort = 8080, DestPort = 43000,
            Flags = TcpFlags.Syn | TcpFlags.Ack,
        };
        var (result, packet) = dp.RunParsed(reply);

        Assert.NotEqual(XdpAction.Drop, result.Action);
        Assert.Equal(DataPathHarness.Vip, packet.Source);
        Assert.Equal(80, packet.SourcePort);
        Assert.Equal(DataPathHarness.Client, packet.Destination);
        Assert.Equal(43000, packet.DestPort);
        Assert.True(packet.IpChecksumValid);
        Assert.True(packet.L4ChecksumValid);
        Assert.Equal(1UL, dp.Counter(Counter.NatReply));
    }

    [Fact]
    public void UdpFlowsAreBalancedAndRepliesReverseNated()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(Protocol.Udp)));
        var query = new PacketBuilder
        {
            Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp,
            SourcePort = 5353, DestPort = 80, Payload = "query"u8.ToArray(),
        };
        var forward = dp.RunParsed(query).Packet;
        var reply = dp.RunParsed(new PacketBuilder
        {
            Source = forward.Destination, Destination = DataPathHarness.Client, Protocol = PacketBuilder.Udp,
            SourcePort = 8080, DestPort = 5353, Payload = "answer"u8.ToArray(),
        }).Packet;

        Assert.Equal(DataPathHarness.BackendAddresses[2], forward.Destination);
        Assert.True(forward.L4ChecksumValid, "UDP checksum after DNAT");
        Assert.Equal(DataPathHarness.Vip, reply.Source);
        Assert.Equal(80, reply.SourcePort);
        Assert.True(reply.L4ChecksumValid, "UDP checksum after reverse NAT");
    }

    [Fact]
    public void UdpWithoutChecksumKeepsZeroChecksum()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(Protocol.Udp)));
        var result = dp.Run(new PacketBuilder
        {
            Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp,
            DestPort = 80, UdpChecksumZero = true, Payload = [1, 2, 3],
        }.Build());

        var packet = ParsedPacket.Parse(result.Packet);
        Assert.Equal(DataPathHarness.BackendAddresses[2], packet.Destination);
        Assert.Equal(0, result.Packet[14 + 20 + 6] << 8 | result.Packet[14 + 20 + 7]);
    }

    [Fact]
    public void Ipv6ServiceIsDnatedWithValidChecksum()
    {
        var vip6 = IPAddress.Parse("fd00:96::10");
        var client6 = IPAddress.Parse("fd00:1::2");
        var backends = new[] { "fd00:11::2", "fd00:12::2" }.Select(a => new Backend(IPAddress.Parse(a), 8080)).ToList();
        using var dp = new DataPathHarness(DataPathHarness.Config(new Service { Address = vip6, Port = 80, Backends = backends }));

        var (result, packet) = dp.RunParsed(new PacketBuilder { Source = client6, Destination = vip6, DestPort = 80, SourcePort = 50000 });
        var reply = dp.RunParsed(new PacketBuilder
        {
            Source = packet.Destination, Destination = client6, SourcePort = 8080, DestPort = 50000, Flags = TcpFlags.Syn | TcpFlags.Ack,
        }).Packet;

        Assert.NotEqual(XdpAction.Drop, result.Action);
        Assert.Equal(backends[1].Address, packet.Destination);
        Assert.Equal(8080, packet.DestPort);
        Assert.True(packet.L4ChecksumValid, "TCP checksum over IPv6 after DNAT");
        Assert.Equal(vip6, reply.Source);
        Assert.True(reply.L4ChecksumValid, "TCP checksum over IPv6 after reverse NAT");
    }

    [Fact]
    public void WeightZeroBackendGetsNoNewFlows()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(Protocol.Tcp, 1, 0, 1)));

        var picked = Enumerable.Range(0, 4).Select(i => dp.RunParsed(Syn((ushort)(44000 + i))).Packet.Destination).ToList();

        var b = DataPathHarness.BackendAddresses;
        Assert.Equal([b[2], b[0], b[2], b[0]], picked);
    }

    [Fact]
    public void BackendSetReplacementTakesEffectForNewFlowsOnly()
    {
        var service = DataPathHarness.WebService();
        var config = DataPathHarness.Config(service);
        using var dp = new DataPathHarness(config);
        var established = dp.RunParsed(Syn(46000)).Packet.Destination;                  // b3, the rr cursor
        var b14 = new Backend(IPAddress.Parse("10.0.14.2"), 9090);

        // b14 is added (list: b14 b3 b2 b1), then b1 and b2 removed (list: b14 b3).
        var replacement = service with { Backends = [service.Backends[2], b14] };
        dp.Dataplane.Apply(config with { Services = [replacement] });

        Assert.Equal(b14.Address, dp.RunParsed(Syn(46001)).Packet.Destination);           // after b3 comes b14
        Assert.Equal(established, dp.RunParsed(Syn(46000) with { Flags = TcpFlags.Ack }).Packet.Destination);
        Assert.Equal(DataPathHarness.BackendAddresses[2], dp.RunParsed(Syn(46002)).Packet.Destination);
        // The generation that went idle stays whole until the next change, then is rewritten.
        Assert.Equal(2 + 3, dp.Program.BackendSlots.Keys().Count);
        dp.Dataplane.Apply(config with { Services = [replacement with { Backends = [.. replacement.Backends, new Backend(IPAddress.Parse("10.0.15.2"), 9090)] }] });
        Assert.Equal(3 + 2, dp.Program.BackendSlots.Keys().Count);
        dp.Dataplane.Apply(config with { Services = [] });
        Assert.Empty(dp.Program.BackendSlots.Keys());
        Assert.Empty(dp.Program.Services.Keys());
    }
}
