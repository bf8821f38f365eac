using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;
using XdpLb.Core.Scheduling;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// New flows, established flows and replies through the data path, IPv4 and IPv6, TCP and UDP,
/// on the mock-FIB build: each leaves by the mock's route, so its verdict and its whole frame
/// are known.
/// </summary>
public sealed class ForwardingTests
{
    private static PacketBuilder Syn(ushort sourcePort) => new()
    {
        Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, SourcePort = sourcePort, DestPort = 80, Flags = TcpFlags.Syn,
    };

    // A backend's answer to a client, before the data path reverse-translates it.
    private static PacketBuilder Answer(IPAddress backend, IPAddress client, ushort clientPort) => new()
    {
        Source = backend, Destination = client, SourcePort = 8080, DestPort = clientPort, Flags = TcpFlags.Syn | TcpFlags.Ack,
    };

    // The route back towards the clients: another interface and other MACs than the default.
    private static readonly MockFib TowardClient = MockFib.Route(ifindex: 3, [0x02, 0, 0, 0, 0, 0xcc], [0x02, 0, 0, 0, 0, 0xdd]);

    [Fact]
    public void SynToVipLeavesDnatedToBackendWithValidChecksums()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        var syn = Syn(40000) with { Payload = "hello"u8.ToArray() };

        var result = dp.Run(syn.Build());

        // The last-listed is picked first; only the destination, TTL and MACs change.
        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(dp.Routed(syn with { Destination = DataPathHarness.BackendAddresses[2], DestPort = 8080 }).Build(), result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.NewFlow));
    }

    [Fact]
    public void NewFlowsFollowIpvsRoundRobinOrder()
    {
        var service = DataPathHarness.WebService();
        using var dp = new DataPathHarness(DataPathHarness.Config(service), mockFib: true);
        var reference = new IpvsRoundRobinModel();
        foreach (var b in service.Backends)
            reference.Add(b);

        var picked = Enumerable.Range(0, 9).Select(i => dp.Forward(Syn((ushort)(41000 + i))).Destination).ToList();

        // Listed 1,2,3 (added in that order, each at the head of IPVS's list) are picked 3,2,1,3,...
        var expected = Enumerable.Range(0, 9).Select(i => DataPathHarness.BackendAddresses[2 - i % 3]).ToList();
        Assert.Equal(expected, picked);
        Assert.Equal(Enumerable.Range(0, 9).Select(_ => reference.Schedule()!.Address).ToList(), picked);
    }

    [Fact]
    public void LaterPacketsOfAFlowStayOnItsBackend()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        var first = dp.Forward(Syn(42000)).Destination;
        dp.Forward(Syn(42001));
        dp.Forward(Syn(42002));
        var ack = Syn(42000) with { Flags = TcpFlags.Ack | TcpFlags.Psh, Payload = "GET /"u8.ToArray() };

        var result = dp.Run(ack.Build());

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(dp.Routed(ack with { Destination = first, DestPort = 8080 }).Build(), result.Packet);
        Assert.Equal(3UL, dp.Counter(Counter.NewFlow));
        Assert.Equal(4UL, dp.Counter(Counter.NatRequest));
    }

    [Fact]
    public void BackendReplyLeavesWithTheVipAsSource()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService()), mockFib: true);
        var backend = dp.Forward(Syn(43000)).Destination;
        dp.SetFib(TowardClient);
        var reply = Answer(backend, DataPathHarness.Client, 43000);

        var result = dp.Run(reply.Build());

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(dp.Routed(reply with { Source = DataPathHarness.Vip, SourcePort = 80 }).Build(), result.Packet);
        Assert.Equal(1UL, dp.Counter(Counter.NatReply));
    }

    [Fact]
    public void UdpFlowsAreBalancedAndRepliesReverseNated()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(Protocol.Udp)), mockFib: true);
        var query = new PacketBuilder
        {
            Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp,
            SourcePort = 5353, DestPort = 80, Payload = "query"u8.ToArray(),
        };
        var answer = new PacketBuilder
        {
            Source = DataPathHarness.BackendAddresses[2], Destination = DataPathHarness.Client, Protocol = PacketBuilder.Udp,
            SourcePort = 8080, DestPort = 5353, Payload = "answer"u8.ToArray(),
        };

        var forward = dp.Run(query.Build());
        var expectedForward = dp.Routed(query with { Destination = DataPathHarness.BackendAddresses[2], DestPort = 8080 }).Build();
        dp.SetFib(TowardClient);
        var reply = dp.Run(answer.Build());

        Assert.Equal(XdpAction.Redirect, forward.Action);
        Assert.Equal(expectedForward, forward.Packet);
        Assert.Equal(XdpAction.Redirect, reply.Action);
        Assert.Equal(dp.Routed(answer with { Source = DataPathHarness.Vip, SourcePort = 80 }).Build(), reply.Packet);
    }

    [Fact]
    public void UdpWithoutChecksumKeepsZeroChecksum()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(Protocol.Udp)), mockFib: true);
        var datagram = new PacketBuilder
        {
            Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, Protocol = PacketBuilder.Udp,
            DestPort = 80, UdpChecksumZero = true, Payload = [1, 2, 3],
        };

        var result = dp.Run(datagram.Build());

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(dp.Routed(datagram with { Destination = DataPathHarness.BackendAddresses[2], DestPort = 8080 }).Build(), result.Packet);
        Assert.Equal(0, result.Packet[14 + 20 + 6] << 8 | result.Packet[14 + 20 + 7]);
    }

    [Fact]
    public void Ipv6ServiceIsDnatedWithValidChecksum()
    {
        var vip6 = IPAddress.Parse("fd00:96::10");
        var client6 = IPAddress.Parse("fd00:1::2");
        var backends = new[] { "fd00:11::2", "fd00:12::2" }.Select(a => new Backend(IPAddress.Parse(a), 8080)).ToList();
        using var dp = new DataPathHarness(DataPathHarness.Config(new Service { Address = vip6, Port = 80, Backends = backends }), mockFib: true);
        var syn = new PacketBuilder { Source = client6, Destination = vip6, DestPort = 80, SourcePort = 50000 };
        var answer = Answer(backends[1].Address, client6, 50000);

        var request = dp.Run(syn.Build());
        var expectedRequest = dp.Routed(syn with { Destination = backends[1].Address, DestPort = 8080 }).Build();
        dp.SetFib(TowardClient);
        var reply = dp.Run(answer.Build());

        Assert.Equal(XdpAction.Redirect, request.Action);
        Assert.Equal(expectedRequest, request.Packet);
        Assert.Equal(XdpAction.Redirect, reply.Action);
        Assert.Equal(dp.Routed(answer with { Source = vip6, SourcePort = 80 }).Build(), reply.Packet);
    }

    [Fact]
    public void WeightZeroBackendGetsNoNewFlows()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(DataPathHarness.WebService(Protocol.Tcp, 1, 0, 1)), mockFib: true);

        var picked = Enumerable.Range(0, 4).Select(i => dp.Forward(Syn((ushort)(44000 + i))).Destination).ToList();

        var b = DataPathHarness.BackendAddresses;
        Assert.Equal([b[2], b[0], b[2], b[0]], picked);
    }

    [Fact]
    public void BackendSetReplacementTakesEffectForNewFlowsOnly()
    {
        var service = DataPathHarness.WebService();
        var config = DataPathHarness.Config(service);
        using var dp = new DataPathHarness(config, mockFib: true);
        var established = dp.Forward(Syn(46000)).Destination;                            // b3, the rr cursor
        var b14 = new Backend(IPAddress.Parse("10.0.14.2"), 9090);

        // b14 is added (list: b14 b3 b2 b1), then b1 and b2 removed (list: b14 b3).
        var replacement = service with { Backends = [service.Backends[2], b14] };
        dp.Dataplane.Apply(config with { Services = [replacement] });

        Assert.Equal(b14.Address, dp.Forward(Syn(46001)).Destination);                   // after b3 comes b14
        Assert.Equal(established, dp.Forward(Syn(46000) with { Flags = TcpFlags.Ack }).Destination);
        Assert.Equal(DataPathHarness.BackendAddresses[2], dp.Forward(Syn(46002)).Destination);
        // The generation that went idle stays whole until the next change, then is rewritten.
        Assert.Equal(2 + 3, dp.Program.BackendSlots.Keys().Count);
        dp.Dataplane.Apply(config with { Services = [replacement with { Backends = [.. replacement.Backends, new Backend(IPAddress.Parse("10.0.15.2"), 9090)] }] });
        Assert.Equal(3 + 2, dp.Program.BackendSlots.Keys().Count);
        dp.Dataplane.Apply(config with { Services = [] });
        Assert.Empty(dp.Program.BackendSlots.Keys());
        Assert.Empty(dp.Program.Services.Keys());
    }
}
