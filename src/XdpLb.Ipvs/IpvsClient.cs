using XdpLb.Ipvs.Netlink;
using static XdpLb.Ipvs.IpvsNetlink;

namespace XdpLb.Ipvs;

/// <summary>
/// The kernel's IPVS over generic netlink (what ipvsadm does, without ipvsadm): services,
/// destinations, their 64-bit stats, timeouts, flush. Each call is one request; a refusal
/// is a NetlinkException naming the operation, the service or destination, and the errno.
/// One request at a time (calls are serialized).
/// </summary>
public sealed class IpvsClient : IDisposable
{
    private readonly GenericNetlink netlink;
    private readonly object gate = new();

    private IpvsClient(GenericNetlink netlink) => this.netlink = netlink;

    /// <summary>Opens a socket and resolves the IPVS family: NetlinkFamilyNotFoundException without IP_VS.</summary>
    public static IpvsClient Open() => new(GenericNetlink.Open(FamilyName, GenlVersion));

    public IpvsInfo GetInfo()
    {
        var a = Call(c => netlink.Get(netlink.NewRequest(CmdGetInfo, NetlinkMessageWriter.FlagRequest), "reading IPVS info"));
        return new IpvsInfo(a.U32(InfoVersion), a.U32(InfoConnTabSize));
    }

    public void AddService(IpvsService s) =>
        Call(_ => netlink.Execute(FullService(netlink.NewRequest(CmdNewService, Change), s), $"adding service {s}"));

    public void UpdateService(IpvsService s) =>
        Call(_ => netlink.Execute(FullService(netlink.NewRequest(CmdSetService, Change), s), $"updating service {s}"));

    public void DeleteService(IpvsService s) =>
        Call(_ => netlink.Execute(ServiceIdentity(netlink.NewRequest(CmdDelService, Change), s), $"deleting service {s}"));

    public IReadOnlyList<IpvsService> GetServices() => Call(_ =>
        netlink.Dump(netlink.NewRequest(CmdGetService, NetlinkMessageWriter.FlagRequest | NetlinkMessageWriter.FlagDump), "listing services")
            .Select(m => m.Nested(AttrService)).OfType<NetlinkAttributes>().Select(ReadService).OfType<IpvsService>().ToList());

    /// <summary>One service as the kernel holds it (GET_SERVICE without a dump), or null when it has none.</summary>
    public IpvsService? GetService(IpvsService s) => Call(_ =>
    {
        try
        {
            var a = netlink.Get(ServiceIdentity(netlink.NewRequest(CmdGetService, NetlinkMessageWriter.FlagRequest), s), $"reading service {s}");
            return a.Nested(AttrService) is { } svc ? ReadService(svc) : null;
        }
        catch (NetlinkException e) when (e.Errno == 3 /* ESRCH */)
        {
            return null;
        }
    });

    public void AddDestination(IpvsService s, IpvsDestination d) =>
        Call(_ => netlink.Execute(FullDest(ServiceIdentity(netlink.NewRequest(CmdNewDest, Change), s), d), $"adding destination {d} to service {s}"));

    public void UpdateDestination(IpvsService s, IpvsDestination d) =>
        Call(_ => netlink.Execute(FullDest(ServiceIdentity(netlink.NewRequest(CmdSetDest, Change), s), d), $"updating destination {d} of service {s}"));

    public void DeleteDestination(IpvsService s, IpvsDestination d) => Call(_ =>
    {
        var request = ServiceIdentity(netlink.NewRequest(CmdDelDest, Change), s).Begin(AttrDest)
            .U16(DestAddrFamily, d.Family).Attribute(DestAddr, Address16(d.Address)).Be16(DestPort, d.Port).End();
        netlink.Execute(request, $"deleting destination {d} of service {s}");
    });

    public IReadOnlyList<IpvsDestination> GetDestinations(IpvsService s) => Call(_ =>
        netlink.Dump(ServiceIdentity(netlink.NewRequest(CmdGetDest, NetlinkMessageWriter.FlagRequest | NetlinkMessageWriter.FlagDump), s), $"listing destinations of service {s}")
            .Select(m => m.Nested(AttrDest)).OfType<NetlinkAttributes>().Select(a => ReadDest(a, s.Family)).ToList());

    public void SetTimeouts(IpvsTimeouts t) => Call(_ => netlink.Execute(
        netlink.NewRequest(CmdSetConfig, Change).U32(AttrTimeoutTcp, t.Tcp).U32(AttrTimeoutTcpFin, t.TcpFin).U32(AttrTimeoutUdp, t.Udp),
        $"setting timeouts tcp {t.Tcp}s, tcpfin {t.TcpFin}s, udp {t.Udp}s"));

    public IpvsTimeouts GetTimeouts()
    {
        var a = Call(_ => netlink.Get(netlink.NewRequest(CmdGetConfig, NetlinkMessageWriter.FlagRequest), "reading timeouts"));
        return new IpvsTimeouts(a.U32(AttrTimeoutTcp), a.U32(AttrTimeoutTcpFin), a.U32(AttrTimeoutUdp));
    }

    /// <summary>Deletes every virtual service of this network namespace (ipvsadm -C).</summary>
    public void Flush() => Call(_ => netlink.Execute(netlink.NewRequest(CmdFlush, Change), "flushing all services"));

    /// <summary>Zeroes the counters of every service (ipvsadm -Z).</summary>
    public void ZeroStats() => Call(_ => netlink.Execute(netlink.NewRequest(CmdZero, Change), "zeroing counters"));

    private const ushort Change = NetlinkMessageWriter.FlagRequest | NetlinkMessageWriter.FlagAck;

    private T Call<T>(Func<object?, T> call)
    {
        lock (gate)
            return call(null);
    }

    private void Call(Action<object?> call)
    {
        lock (gate)
            call(null);
    }

    internal static byte[] Address16(System.Net.IPAddress address)
    {
        var bytes = new byte[16];
        address.GetAddressBytes().CopyTo(bytes, 0);
        return bytes;
    }

    internal static NetlinkMessageWriter ServiceIdentity(NetlinkMessageWriter w, IpvsService s) =>
        w.Begin(AttrService).U16(SvcAf, s.Family).U16(SvcProtocol, s.Protocol).Attribute(SvcAddr, Address16(s.Address)).Be16(SvcPort, s.Port).End();

    // NEW and SET need the full set: scheduler, flags (with mask), timeout and netmask.
    internal static NetlinkMessageWriter FullService(NetlinkMessageWriter w, IpvsService s)
    {
        var flags = new byte[8];
        BitConverter.TryWriteBytes(flags.AsSpan(0, 4), (uint)(s.Flags & ~IpvsServiceFlags.Hashed));
        BitConverter.TryWriteBytes(flags.AsSpan(4, 4), 0xFFFFFFFFu);
        // The persistence netmask: /32 for IPv4 (network order), 128 for IPv6 (a prefix length).
        uint netmask = s.Family == 2 ? 0xFFFFFFFFu : 128u;
        return w.Begin(AttrService).U16(SvcAf, s.Family).U16(SvcProtocol, s.Protocol).Attribute(SvcAddr, Address16(s.Address))
            .Be16(SvcPort, s.Port).String(SvcSchedName, s.Scheduler).Attribute(SvcFlags, flags).U32(SvcTimeout, s.Timeout)
            .U32(SvcNetmask, netmask).End();
    }

    internal static NetlinkMessageWriter FullDest(NetlinkMessageWriter w, IpvsDestination d) =>
        w.Begin(AttrDest).U16(DestAddrFamily, d.Family).Attribute(DestAddr, Address16(d.Address)).Be16(DestPort, d.Port)
            .U32(DestFwdMethod, (uint)d.Forwarding).U32(DestWeight, (uint)d.Weight).U32(DestUThresh, d.UpperThreshold)
            .U32(DestLThresh, d.LowerThreshold).End();

    internal static IpvsService? ReadService(NetlinkAttributes a)
    {
        ushort family = a.U16(SvcAf);
        var address = a.Address(SvcAddr, family);
        if (address is null)
            return null; // a firewall-mark service: not one of ours
        var flags = a.Raw(SvcFlags);
        return new IpvsService
        {
            Address = address,
            Port = a.Be16(SvcPort),
            Protocol = (byte)a.U16(SvcProtocol),
            Scheduler = a.String(SvcSchedName),
            Flags = flags is { Length: >= 4 } ? (IpvsServiceFlags)BitConverter.ToUInt32(flags, 0) : IpvsServiceFlags.None,
            Timeout = a.U32(SvcTimeout),
            Stats = ReadStats(a.Nested(SvcStats64)),
        };
    }

    internal static IpvsDestination ReadDest(NetlinkAttributes a, ushort serviceFamily)
    {
        ushort family = a.Has(DestAddrFamily) ? a.U16(DestAddrFamily) : serviceFamily;
        return new IpvsDestination
        {
            Address = a.Address(DestAddr, family) ?? throw new InvalidDataException("an IPVS destination without an address"),
            Port = a.Be16(DestPort),
            Forwarding = (IpvsForwarding)(a.U32(DestFwdMethod) & 0x7),
            Weight = (int)a.U32(DestWeight),
            UpperThreshold = a.U32(DestUThresh),
            LowerThreshold = a.U32(DestLThresh),
            ActiveConns = a.U32(DestActiveConns),
            InactiveConns = a.U32(DestInactConns),
            PersistentConns = a.U32(DestPersistConns),
            Stats = ReadStats(a.Nested(DestStats64)),
        };
    }

    private static IpvsStats ReadStats(NetlinkAttributes? s) => s is null ? IpvsStats.Zero : new IpvsStats(
        s.U64(StatsConns), s.U64(StatsInPkts), s.U64(StatsOutPkts), s.U64(StatsInBytes), s.U64(StatsOutBytes),
        s.U64(StatsCps), s.U64(StatsInPps), s.U64(StatsOutPps), s.U64(StatsInBps), s.U64(StatsOutBps));

    public void Dispose() => netlink.Dispose();
}
