using XdpLb.Core.Model;
using XdpLb.Core.Status;
using XdpLb.Ipvs;

namespace XdpLb.Agent;

/// <summary>The kernel's IPVS state of the owned servers as Core's status records (what `xdplb list` prints).</summary>
internal static class IpvsStatus
{
    public static List<VirtualServer> Services(IpvsDataplane dataplane) =>
        dataplane.Snapshot().Select(e => ToVirtualServer(e.Service, e.Destinations)).ToList();

    private static VirtualServer ToVirtualServer(IpvsService s, IReadOnlyList<IpvsDestination> dests)
    {
        var protocol = s.Protocol switch { 6 => Protocol.Tcp, 17 => Protocol.Udp, _ => Protocol.Sctp };
        Names.TryParse<Scheduler>(s.Scheduler, out var scheduler);
        return new VirtualServer(protocol, s.Address, s.Port, scheduler, Flags(s, scheduler),
            (s.Flags & IpvsServiceFlags.Persistent) != 0 ? s.Timeout : 0,
            dests.Select(d => new RealServer(d.Address, d.Port, d.Forwarding switch
            {
                IpvsForwarding.Route => Forwarding.Dr,
                IpvsForwarding.Tunnel => Forwarding.Tun,
                _ => Forwarding.Nat,
            }, (ushort)d.Weight, d.ActiveConns, d.InactiveConns, Counters(d.Stats), Rates(d.Stats))).ToList(),
            Counters(s.Stats), Rates(s.Stats));
    }

    // SCHED1/SCHED2 are sh's and mh's fallback and port flags, named after the scheduler.
    private static List<SchedulerFlag> Flags(IpvsService s, Scheduler scheduler)
    {
        var flags = new List<SchedulerFlag>();
        if ((s.Flags & IpvsServiceFlags.Sched1) != 0)
            flags.Add(scheduler == Scheduler.Mh ? SchedulerFlag.MhFallback : SchedulerFlag.ShFallback);
        if ((s.Flags & IpvsServiceFlags.Sched2) != 0)
            flags.Add(scheduler == Scheduler.Mh ? SchedulerFlag.MhPort : SchedulerFlag.ShPort);
        return flags;
    }

    private static TrafficCounters Counters(IpvsStats s) => new(s.Conns, s.InPackets, s.OutPackets, s.InBytes, s.OutBytes);

    // IPVS's own estimator: conns, packets and bytes per second in the same positions.
    private static TrafficCounters Rates(IpvsStats s) => new(s.Cps, s.InPps, s.OutPps, s.InBps, s.OutBps);
}
