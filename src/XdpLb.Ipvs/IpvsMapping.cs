using XdpLb.Core.Model;

namespace XdpLb.Ipvs;

/// <summary>A Core service as IPVS holds it: scheduler names and flags one to one, forwarding by method.</summary>
public static class IpvsMapping
{
    public static byte ProtocolNumber(Protocol p) => p switch { Protocol.Tcp => 6, Protocol.Udp => 17, _ => 132 };

    public static IpvsService VirtualService(Service s)
    {
        var key = s.Key ?? throw new ArgumentException($"{s.Label} has no address", nameof(s));
        var flags = IpvsServiceFlags.None;
        if (s.Persistence > 0)
            flags |= IpvsServiceFlags.Persistent;
        foreach (var f in s.Flags)
            flags |= f is SchedulerFlag.ShFallback or SchedulerFlag.MhFallback ? IpvsServiceFlags.Sched1 : IpvsServiceFlags.Sched2;
        return new IpvsService
        {
            Address = key.Address,
            Port = key.Port,
            Protocol = ProtocolNumber(key.Protocol),
            Scheduler = Names.Of(s.Scheduler),
            Flags = flags,
            Timeout = s.Persistence,
        };
    }

    /// <summary>nat and masq are IPVS's Masq (masq adds an nftables masquerade rule); dr Route; tun Tunnel.</summary>
    public static IpvsForwarding Method(Forwarding f) => f switch
    {
        Forwarding.Dr => IpvsForwarding.Route,
        Forwarding.Tun => IpvsForwarding.Tunnel,
        _ => IpvsForwarding.Masq,
    };

    public static IpvsDestination Destination(Service s, Backend b) => new()
    {
        Address = b.Address,
        Port = b.Port,
        Forwarding = Method(s.Forwarding),
        Weight = b.Weight,
    };

    /// <summary>The fields SET_SERVICE changes (kube-proxy ignores the kernel's HASHED flag).</summary>
    public static bool SameSettings(IpvsService a, IpvsService b) =>
        a.Scheduler == b.Scheduler && (a.Flags & ~IpvsServiceFlags.Hashed) == (b.Flags & ~IpvsServiceFlags.Hashed) && a.Timeout == b.Timeout;

    public static bool SameDestination(IpvsDestination a, IpvsDestination b) =>
        a.Forwarding == b.Forwarding && a.Weight == b.Weight;
}
