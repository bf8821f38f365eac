using System.Net;
using XdpLb.Ipvs;
using XdpLb.Ipvs.Netlink;

namespace XdpLb.Vm.Tests;

/// <summary>Every call of the generic netlink client against the kernel's IPVS, read back by ipvsadm.</summary>
public sealed class IpvsClientTests : IDisposable
{
    private readonly IpvsNetns ns = new();

    private static IpvsService Tcp4 => new() { Address = IPAddress.Parse("10.96.0.10"), Port = 80, Protocol = 6, Scheduler = "wrr" };
    private static IpvsService Udp6 => new()
    {
        Address = IPAddress.Parse("fd00:96::53"), Port = 53, Protocol = 17, Scheduler = "sh",
        Flags = IpvsServiceFlags.Sched1 | IpvsServiceFlags.Sched2 | IpvsServiceFlags.Persistent, Timeout = 600,
    };
    private static IpvsService Sctp4 => new() { Address = IPAddress.Parse("10.96.0.11"), Port = 3868, Protocol = 132, Scheduler = "mh" };

    public void Dispose() => ns.Dispose();

    [Fact]
    public void InfoAndTimeoutsAreReadAndSet()
    {
        var info = ns.Client.GetInfo();
        ns.Client.SetTimeouts(new IpvsTimeouts(1000, 60, 30));

        Assert.Equal(0x010201u, info.Version);
        Assert.True(info.ConnectionTableSize > 0);
        Assert.Equal(new IpvsTimeouts(1000, 60, 30), ns.Client.GetTimeouts());
        Assert.Contains("Timeout (tcp tcpfin udp): 1000 60 30", ns.Ipvsadm("-L", "--timeout"));
    }

    [Fact]
    public void ServicesOfEachFamilyAndProtocolAreAddedListedUpdatedAndDeleted()
    {
        ns.Client.AddService(Tcp4);
        ns.Client.AddService(Udp6);
        ns.Client.AddService(Sctp4);

        var listed = ns.Client.GetServices().OrderBy(s => s.Port).ToList();
        Assert.Equal([53, 80, 3868], listed.Select(s => (int)s.Port));
        Assert.Equal(("sh", IpvsServiceFlags.Sched1 | IpvsServiceFlags.Sched2 | IpvsServiceFlags.Persistent, 600u),
            (listed[0].Scheduler, listed[0].Flags & ~IpvsServiceFlags.Hashed, listed[0].Timeout));
        string text = ns.Ipvsadm("-Ln");
        Assert.Contains("TCP  10.96.0.10:80 wrr", text);
        Assert.Contains("UDP  [fd00:96::53]:53 sh (sh-fallback,sh-port) persistent 600", text);
        Assert.Contains("SCTP 10.96.0.11:3868 mh", text);

        Assert.Equal(("sh", 600u), (ns.Client.GetService(Udp6)!.Scheduler, ns.Client.GetService(Udp6)!.Timeout));

        ns.Client.UpdateService(Tcp4 with { Scheduler = "lc" });
        ns.Client.DeleteService(Sctp4);

        Assert.Null(ns.Client.GetService(Sctp4));
        Assert.Equal("lc", ns.Client.GetService(Tcp4)!.Scheduler);
        Assert.Contains("TCP  10.96.0.10:80 lc", ns.Ipvsadm("-Ln"));
        Assert.DoesNotContain("3868", ns.Ipvsadm("-Ln"));
    }

    [Fact]
    public void DestinationsAreAddedListedUpdatedAndDeletedWithEveryForwardingMethod()
    {
        ns.Client.AddService(Tcp4);
        ns.Client.AddDestination(Tcp4, new IpvsDestination { Address = IPAddress.Parse("10.0.11.2"), Port = 8080, Weight = 3 });
        ns.Client.AddDestination(Tcp4, new IpvsDestination { Address = IPAddress.Parse("10.0.12.2"), Port = 80, Forwarding = IpvsForwarding.Route });
        ns.Client.AddDestination(Tcp4, new IpvsDestination { Address = IPAddress.Parse("10.0.13.2"), Port = 80, Forwarding = IpvsForwarding.Tunnel, Weight = 0 });

        var dests = ns.Client.GetDestinations(Tcp4).OrderBy(d => d.Address.ToString()).ToList();
        Assert.Equal([(IpvsForwarding.Masq, 3), (IpvsForwarding.Route, 1), (IpvsForwarding.Tunnel, 0)], dests.Select(d => (d.Forwarding, d.Weight)));
        string text = ns.Ipvsadm("-Ln");
        Assert.Contains("  -> 10.0.11.2:8080               Masq    3      0          0", text);
        Assert.Contains("  -> 10.0.12.2:80                 Route   1      0          0", text);
        Assert.Contains("  -> 10.0.13.2:80                 Tunnel  0      0          0", text);

        ns.Client.UpdateDestination(Tcp4, dests[0] with { Weight = 7 });
        ns.Client.DeleteDestination(Tcp4, dests[1]);

        text = ns.Ipvsadm("-Ln");
        Assert.Contains("  -> 10.0.11.2:8080               Masq    7", text);
        Assert.DoesNotContain("10.0.12.2", text);
    }

    [Fact]
    public void RefusalsNameTheOperationAndTheErrno()
    {
        ns.Client.AddService(Tcp4);

        var duplicate = Assert.Throws<NetlinkException>(() => ns.Client.AddService(Tcp4));
        var missing = Assert.Throws<NetlinkException>(() => ns.Client.DeleteService(Sctp4));
        var scheduler = Assert.Throws<NetlinkException>(() => ns.Client.AddService(Sctp4 with { Scheduler = "fastest" }));
        var destOfMissing = Assert.Throws<NetlinkException>(() => ns.Client.AddDestination(Sctp4, new IpvsDestination { Address = IPAddress.Parse("10.0.11.2"), Port = 80 }));

        Assert.Equal(17, duplicate.Errno);
        Assert.StartsWith("adding service TCP 10.96.0.10:80: EEXIST (17)", duplicate.Message);
        Assert.Equal(3, missing.Errno);
        Assert.StartsWith("deleting service SCTP 10.96.0.11:3868: ESRCH (3)", missing.Message);
        Assert.Equal(2, scheduler.Errno);                                          // no such scheduler module
        Assert.Equal(3, destOfMissing.Errno);
    }

    [Fact]
    public void FlushRemovesEveryService()
    {
        ns.Client.AddService(Tcp4);
        ns.Client.AddService(Udp6);

        ns.Client.Flush();

        Assert.Empty(ns.Client.GetServices());
    }
}
