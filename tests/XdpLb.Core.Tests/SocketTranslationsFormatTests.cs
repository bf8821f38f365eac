using System.Net;
using XdpLb.Core.Model;
using XdpLb.Core.Status;

namespace XdpLb.Core.Tests;

/// <summary>The socket hooks' section of `xdplb list --stats`: after ipvsadm's table, never inside it.</summary>
public sealed class SocketTranslationsFormatTests
{
    private static readonly TrafficCounters Zero = new();

    private static VirtualServer Service(Protocol protocol, string address, ushort port, params RealServer[] dests) =>
        new(protocol, IPAddress.Parse(address), port, Scheduler.Rr, [], 0, dests, Zero, Zero);

    private static RealServer Dest(string address, ushort port, SocketTranslations? socket) =>
        new(IPAddress.Parse(address), port, Forwarding.Nat, 1, 0, 0, Zero, Zero, socket);

    [Fact]
    public void WithoutSocketHooksThereIsNoSection()
    {
        var services = new[] { Service(Protocol.Tcp, "10.96.0.10", 80, Dest("10.0.11.2", 8080, null)) };

        Assert.Equal("", SocketTranslationsFormat.Section(services));
    }

    [Fact]
    public void EachServiceSumsItsBackendsInIpvsadmOrder()
    {
        var services = new[]
        {
            Service(Protocol.Udp, "10.96.0.10", 53, Dest("10.0.11.2", 9000, new SocketTranslations(0, 7))),
            Service(Protocol.Tcp, "10.96.0.10", 80,
                Dest("10.0.12.2", 8080, new SocketTranslations(2, 0)), Dest("10.0.11.2", 8080, new SocketTranslations(3, 0))),
        };

        Assert.Equal("""
            Socket-level translations (connections from the node and its pods)
            Prot LocalAddress:Port             Connects Datagrams
              -> RemoteAddress:Port
            TCP  10.96.0.10:80                        5         0
              -> 10.0.11.2:8080                       3         0
              -> 10.0.12.2:8080                       2         0
            UDP  10.96.0.10:53                        0         7
              -> 10.0.11.2:9000                       0         7

            """.Replace("\r", ""), SocketTranslationsFormat.Section(services));
    }
}
