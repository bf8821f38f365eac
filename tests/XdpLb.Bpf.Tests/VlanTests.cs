using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>
/// 802.1Q-tagged frames: the tag comes off for parsing and goes back on as the frame
/// leaves: the same tag back out of the ingress interface, the client's tag on replies to
/// it, a VLAN device's VID when the FIB routes to one, none out of another interface.
/// Runs in a namespace whose FIB knows the neighbours: v0 leads to the client (10.0.50.9)
/// and backend A (10.0.50.2), v1 to backend B (10.0.60.2).
/// </summary>
public sealed class VlanTests : IDisposable
{
    private const ushort ClientTci = 0x2064; // PCP 1, VID 100
    private static readonly IPAddress Vip = IPAddress.Parse("10.96.0.10"), Client = IPAddress.Parse("10.0.50.9");
    private static readonly IPAddress BackendA = IPAddress.Parse("10.0.50.2"), BackendB = IPAddress.Parse("10.0.60.2");
    private static readonly byte[] MacA = [2, 0, 0, 0, 0x50, 2], MacB = [2, 0, 0, 0, 0x60, 2], MacClient = [2, 0, 0, 0, 0x50, 9];

    private readonly ScratchNetns node = new("vlan", 1500, "10.0.50.1/24");

    public VlanTests()
    {
        ScratchNetns.Run("ip", "-n", node.Name, "addr", "add", "10.0.60.1/24", "dev", "v1");
        Neighbour("10.0.50.2", MacA, "v0");
        Neighbour("10.0.50.9", MacClient, "v0");
        Neighbour("10.0.60.2", MacB, "v1");
    }

    private void Neighbour(string address, byte[] mac, string device) =>
        ScratchNetns.Run("ip", "-n", node.Name, "neigh", "replace", address, "lladdr", Convert.ToHexString(mac).Chunk(2).Select(c => new string(c)).Aggregate((a, b) => a + ":" + b), "dev", device, "nud", "permanent");

    public void Dispose() => node.Dispose();

    private static Service Web(IPAddress backend) => new() { Address = Vip, Port = 80, Backends = [new Backend(backend, 8080)] };

    private static PacketBuilder FromClient(TcpFlags flags = TcpFlags.Syn) => new() { Source = Client, Destination = Vip, SourcePort = 41000, DestPort = 80, Flags = flags };

    private static PacketBuilder Answer(IPAddress backend) => new()
    {
        Source = backend, Destination = Client, SourcePort = 8080, DestPort = 41000, Flags = TcpFlags.Syn | TcpFlags.Ack,
    };

    private (XdpAction Action, ushort? Tci, ParsedPacket Packet, byte[] Frame) Run(DataPathHarness dp, byte[] frame)
    {
        var result = node.TestRun(dp.Program.Ingress, frame);
        var (tci, untagged) = VlanFrames.Untag(result.Packet);
        return (result.Action, tci, ParsedPacket.Parse(untagged), untagged);
    }

    [Fact]
    public void BackOutOfTheIngressInterfaceTheFrameKeepsItsTagBothWays()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Web(BackendA)));

        var request = Run(dp, VlanFrames.Tag(FromClient().Build(), ClientTci));
        var reply = Run(dp, Answer(BackendA).Build());                        // the backend's answer comes untagged

        Assert.Equal((XdpAction.Tx, (ushort?)ClientTci), (request.Action, request.Tci));
        Assert.Equal((BackendA, (ushort)8080), (request.Packet.Destination, request.Packet.DestPort));
        Assert.Equal(MacA, request.Frame[..6]);
        Assert.True(request.Packet.IpChecksumValid && request.Packet.L4ChecksumValid);
        Assert.Equal((XdpAction.Tx, (ushort?)ClientTci), (reply.Action, reply.Tci));
        Assert.Equal((Vip, (ushort)80, Client), (reply.Packet.Source, reply.Packet.SourcePort, reply.Packet.Destination));
        Assert.True(reply.Packet.IpChecksumValid && reply.Packet.L4ChecksumValid);
        Assert.Equal(ClientTci, Assert.Single(dp.Program.Conntrack.Entries(), e => e.Value.Direction == FlowDirection.Reply).Value.VlanTci);
    }

    [Fact]
    public void OutOfAnotherInterfaceTheRequestIsUntaggedAndTheReplyGetsTheClientsTag()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Web(BackendB)));

        var request = Run(dp, VlanFrames.Tag(FromClient().Build(), ClientTci));
        var reply = Run(dp, Answer(BackendB).Build());

        Assert.Equal((XdpAction.Redirect, (ushort?)null), (request.Action, request.Tci));
        Assert.Equal(MacB, request.Frame[..6]);
        Assert.Equal((XdpAction.Tx, (ushort?)ClientTci), (reply.Action, reply.Tci));
        Assert.Equal(MacClient, reply.Frame[..6]);
    }

    [Fact]
    public void ARouteThroughAVlanDeviceLeavesItsParentWithItsVid()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Web(BackendB)));
        // This kernel has no 802.1Q devices: v1 stands in for one on v0 with VID 200.
        var (v0, v1) = NetnsThread.Run(node.Name, () => ((uint)XdpLink.InterfaceIndex("v0"), (uint)XdpLink.InterfaceIndex("v1")));
        dp.Program.VlanDevices.Update(v1, new VlanDeviceValue { ParentIfindex = v0, Vid = 200 });
        dp.Program.VlanDeviceCount.Update(0, 1);

        var request = Run(dp, FromClient().Build());                           // an untagged client

        Assert.Equal((XdpAction.Tx, (ushort?)200), (request.Action, request.Tci));
        Assert.Equal(BackendB, request.Packet.Destination);
        Assert.Equal(MacB, request.Frame[..6]);
    }

    [Fact]
    public void WhatGoesToTheStackOrIsAnsweredInPlaceKeepsItsTag()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Web(BackendA)));
        var notService = VlanFrames.Tag(new PacketBuilder { Source = Client, Destination = IPAddress.Parse("10.0.50.1"), DestPort = 22 }.Build(), ClientTci);
        var arp = VlanFrames.Tag([.. new byte[12], 0x08, 0x06, .. new byte[28]], ClientTci);

        var passed = node.TestRun(dp.Program.Ingress, notService);
        var arpPassed = node.TestRun(dp.Program.Ingress, arp);
        var reset = Run(dp, VlanFrames.Tag(FromClient(TcpFlags.Ack).Build(), ClientTci)); // no connection: reset

        Assert.Equal(XdpAction.Pass, passed.Action);
        Assert.Equal(notService, passed.Packet);                               // byte for byte, tag included
        Assert.Equal(XdpAction.Pass, arpPassed.Action);
        Assert.Equal(arp, arpPassed.Packet);
        Assert.Equal((XdpAction.Tx, (ushort?)ClientTci), (reset.Action, reset.Tci));
        Assert.Equal((Vip, Client), (reset.Packet.Source, reset.Packet.Destination));
        Assert.Equal(1UL, dp.Counter(Counter.TxTcpReset));
    }
}
