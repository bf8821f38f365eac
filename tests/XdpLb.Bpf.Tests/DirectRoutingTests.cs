using System.Net;
using XdpLb.Bpf.Maps;
using XdpLb.Bpf.Tests.Packets;
using XdpLb.Core.Model;

namespace XdpLb.Bpf.Tests;

/// <summary>forwarding: dr (IPVS's Route): the packet keeps its addresses; only the request direction is tracked.</summary>
public sealed class DirectRoutingTests
{
    private static Service Dr => DataPathHarness.WebService() with
    {
        Port = 8080,
        Forwarding = Forwarding.Dr,
    };

    private static PacketBuilder FromClient(ushort port, TcpFlags flags) => new()
    {
        Source = DataPathHarness.Client, Destination = DataPathHarness.Vip, SourcePort = port, DestPort = 8080, Flags = flags,
    };

    [Fact]
    public void ANewConnectionKeepsItsAddressesAndGetsNoReplyEntry()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Dr), mockFib: true);
        var syn = FromClient(40000, TcpFlags.Syn);

        var result = dp.Run(syn.Build());

        Assert.Equal(XdpAction.Redirect, result.Action);
        Assert.Equal(dp.Routed(syn).Build(), result.Packet);                    // only the MACs and the TTL change
        var (key, flow) = Assert.Single(dp.Program.Conntrack.Entries());
        Assert.Equal(FlowDirection.Request, flow.Direction);
        Assert.Equal(FlowFlags.Direct, flow.Flags);
        Assert.Equal(DataPathHarness.BackendAddresses[2], flow.NatAddr.ToIPAddress(System.Net.Sockets.AddressFamily.InterNetwork));
        Assert.Equal(1UL, dp.Counter(Counter.FwdDirect));
        Assert.Equal(0UL, dp.Counter(Counter.NatRequest));
    }

    [Fact]
    public void StatesFollowIpvsInputOnlyTable()
    {
        using var dp = new DataPathHarness(DataPathHarness.Config(Dr));
        dp.Run(FromClient(40001, TcpFlags.Syn).Build());
        dp.Run(FromClient(40001, TcpFlags.Ack).Build());
        Assert.Equal(TcpState.Established, Assert.Single(dp.Program.Conntrack.Entries()).Value.State);

        dp.Run(FromClient(40001, TcpFlags.Fin | TcpFlags.Ack).Build());

        // INPUT_ONLY: a client FIN moves ESTABLISHED to FIN_WAIT (with NAT it is CLOSE_WAIT).
        Assert.Equal(TcpState.FinWait, Assert.Single(dp.Program.Conntrack.Entries()).Value.State);
        var conns = dp.Program.BackendConns[dp.Dataplane.BackendId(Dr.Key!, Dr.Backends[2])];
        Assert.Equal(new BackendConns { Active = 0, Inactive = 1 }, conns);
    }
}
