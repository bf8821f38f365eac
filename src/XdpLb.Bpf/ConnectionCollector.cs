using XdpLb.Bpf.Interop;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

/// <summary>
/// Expires connections from the flow table, as IPVS's per-connection timers do: an entry
/// idle for longer than its state's timeout goes, both directions at once, and its
/// backend's active or inactive count goes down with it. Counts move only when this
/// deletion removed the request entry, so the data path expiring the same connection
/// (port reuse) cannot count it twice.
/// </summary>
public sealed class ConnectionCollector(XdpLbProgram program)
{
    // Orphaned reply entries (their request entry already gone) linger this long at most.
    private static readonly ulong OrphanNs = 10_000_000_000UL;

    public Timeouts Timeouts { get; set; } = new();

    /// <summary>IPVS's timeout for a state (ipvs.md §2.1); the three settable ones come from config.</summary>
    public TimeSpan TimeoutOf(byte protocol, TcpState state) => protocol == 17
        ? TimeSpan.FromSeconds(Timeouts.Udp)
        : state switch
        {
            TcpState.None => TimeSpan.FromSeconds(2),
            TcpState.Established => TimeSpan.FromSeconds(Timeouts.Tcp),
            TcpState.SynSent => TimeSpan.FromSeconds(120),
            TcpState.SynRecv => TimeSpan.FromSeconds(60),
            TcpState.FinWait => TimeSpan.FromSeconds(Timeouts.TcpFin),
            TcpState.TimeWait => TimeSpan.FromSeconds(120),
            TcpState.Close => TimeSpan.FromSeconds(10),
            TcpState.CloseWait => TimeSpan.FromSeconds(60),
            TcpState.LastAck => TimeSpan.FromSeconds(30),
            TcpState.Listen => TimeSpan.FromSeconds(120),
            _ => TimeSpan.FromSeconds(120),
        };

    /// <summary>Expires every connection idle past its timeout; returns how many went.</summary>
    /// <param name="after">Judge idleness as if this much more time had passed (tests).</param>
    public int CollectExpired(TimeSpan after = default) =>
        Collect(static (_, _) => false, expireIdle: true, Libc.MonotonicNanoseconds() + (ulong)after.Ticks * 100);

    /// <summary>Expires every connection to a backend (IPVS expire_nodest_conn=1 on removal).</summary>
    public int ExpireBackend(uint backendId) =>
        Collect((_, v) => v.BackendId == backendId, expireIdle: false, Libc.MonotonicNanoseconds());

    private int Collect(Func<FlowKey, FlowValue, bool> select, bool expireIdle, ulong now)
    {
        int expired = 0;
        foreach (var key in program.Conntrack.Keys())
        {
            if (!program.Conntrack.TryLookup(key, out var flow))
                continue;
            ulong idle = now > flow.LastSeenNs ? now - flow.LastSeenNs : 0;
            if (flow.Direction == FlowDirection.Reply)
            {
                var request = RequestKey(key, flow);
                if (!program.Conntrack.TryLookup(request, out _) && idle > OrphanNs)
                    program.Conntrack.Delete(key);
                continue;
            }
            bool due = select(key, flow) || (expireIdle && idle > (ulong)TimeoutOf(key.Proto, flow.State).Ticks * 100);
            if (due && Expire(key, flow))
                expired++;
        }
        return expired;
    }

    private bool Expire(FlowKey request, FlowValue flow)
    {
        if (!program.Conntrack.Delete(request))
            return false;
        program.Conntrack.Delete(ReplyKey(request, flow));
        ref var conns = ref program.BackendConns[flow.BackendId];
        if (flow.State == TcpState.Established && request.Proto == 6)
            Interlocked.Decrement(ref conns.Active);
        else
            Interlocked.Decrement(ref conns.Inactive);
        return true;
    }

    private static FlowKey ReplyKey(FlowKey request, FlowValue flow) => new()
    {
        SourceAddr = flow.NatAddr,
        DestAddr = request.SourceAddr,
        SourcePort = flow.NatPort,
        DestPort = request.SourcePort,
        Proto = request.Proto,
        Family = request.Family,
    };

    private static FlowKey RequestKey(FlowKey reply, FlowValue flow) => new()
    {
        SourceAddr = reply.DestAddr,
        DestAddr = flow.NatAddr,
        SourcePort = reply.DestPort,
        DestPort = flow.NatPort,
        Proto = reply.Proto,
        Family = reply.Family,
    };
}
