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
/// <param name="persistenceOf">A service id's affinity timeout in seconds, 0 when it has none.</param>
public sealed class ConnectionCollector(XdpLbProgram program, Func<uint, uint> persistenceOf)
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

    /// <summary>
    /// Expires every connection idle past its timeout, then every affinity template idle
    /// past its service's timeout that controls no remaining connection; returns how many
    /// connections went.
    /// </summary>
    /// <param name="after">Judge idleness as if this much more time had passed (tests).</param>
    public int CollectExpired(TimeSpan after = default)
    {
        ulong now = Libc.MonotonicNanoseconds() + (ulong)after.Ticks * 100;
        var controlling = new HashSet<AffinityKey>();
        int expired = Collect(static (_, _) => false, expireIdle: true, now, controlling);
        ExpireTemplates(t => now - Math.Min(now, t.Value.LastUsedNs) > (ulong)persistenceOf(t.Value.ServiceId) * 1_000_000_000UL
            && !controlling.Contains(t.Key));
        return expired;
    }

    /// <summary>
    /// Expires every connection to a backend and drops its affinity templates (IPVS
    /// expire_nodest_conn=1 on removal).
    /// </summary>
    public int ExpireBackend(uint backendId) => ExpireBackends(new HashSet<uint> { backendId });

    /// <summary>The same for several backends in one pass over the table.</summary>
    public int ExpireBackends(IReadOnlySet<uint> backendIds)
    {
        if (backendIds.Count == 0)
            return 0;
        int expired = Collect((_, v) => backendIds.Contains(v.BackendId), expireIdle: false, Libc.MonotonicNanoseconds(), null);
        ExpireTemplates(t => backendIds.Contains(t.Value.Backend.Id));
        return expired;
    }

    private void ExpireTemplates(Func<KeyValuePair<AffinityKey, AffinityValue>, bool> due)
    {
        var expired = new List<AffinityKey>();
        program.Affinity.ForEachBatch((keys, values) =>
        {
            for (int i = 0; i < keys.Length; i++)
                if (due(new KeyValuePair<AffinityKey, AffinityValue>(keys[i], values[i])))
                    expired.Add(keys[i]);
        });
        foreach (var key in expired)
            program.Affinity.Delete(key);
    }

    // controlling: collects the template keys that live connections of persistent services hold.
    private int Collect(Func<FlowKey, FlowValue, bool> select, bool expireIdle, ulong now, HashSet<AffinityKey>? controlling)
    {
        // Read in batches, decide, then delete: a million connections cost a few hundred
        // syscalls to read, and deletions only for what expires.
        var due = new List<(FlowKey Key, FlowValue Flow)>();
        var orphanCandidates = new List<(FlowKey Key, FlowValue Flow)>();
        program.Conntrack.ForEachBatch((keys, flows) =>
        {
            for (int i = 0; i < keys.Length; i++)
            {
                var key = keys[i];
                var flow = flows[i];
                ulong idle = now > flow.LastSeenNs ? now - flow.LastSeenNs : 0;
                if (flow.Direction == FlowDirection.Reply)
                {
                    if (idle > OrphanNs)
                        orphanCandidates.Add((key, flow));
                    continue;
                }
                if (select(key, flow) || (expireIdle && idle > (ulong)TimeoutOf(key.Proto, flow.State).Ticks * 100))
                    due.Add((key, flow));
                else if (controlling is not null && persistenceOf(flow.ServiceId) > 0)
                    controlling.Add(new AffinityKey { Client = key.SourceAddr, Vip = key.DestAddr, Vport = key.DestPort, Proto = key.Proto, Family = key.Family });
            }
        });
        int expired = 0;
        foreach (var (key, flow) in due)
        {
            // Re-read: a packet may have refreshed it since the batch was read.
            if (!program.Conntrack.TryLookup(key, out var current))
                continue;
            ulong idle = now > current.LastSeenNs ? now - current.LastSeenNs : 0;
            bool still = select(key, current) || idle > (ulong)TimeoutOf(key.Proto, current.State).Ticks * 100;
            if (still && Expire(key, current))
                expired++;
        }
        foreach (var (key, flow) in orphanCandidates)
            if (!program.Conntrack.TryLookup(RequestKey(key, flow), out _))
                program.Conntrack.Delete(key);
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

    // As flow_reply_key / flow_request_key in bpf/lib/flow.h: a masq connection's other
    // side is the node's address and port it was given, not the client's.
    internal static FlowKey ReplyKey(FlowKey request, FlowValue flow)
    {
        bool masq = flow.Flags.HasFlag(FlowFlags.Masq);
        return new()
        {
            SourceAddr = flow.NatAddr,
            DestAddr = masq ? flow.MasqAddr : request.SourceAddr,
            SourcePort = flow.NatPort,
            DestPort = masq ? flow.MasqPort : request.SourcePort,
            Proto = request.Proto,
            Family = request.Family,
        };
    }

    internal static FlowKey RequestKey(FlowKey reply, FlowValue flow)
    {
        bool masq = flow.Flags.HasFlag(FlowFlags.Masq);
        return new()
        {
            SourceAddr = masq ? flow.MasqAddr : reply.DestAddr,
            DestAddr = flow.NatAddr,
            SourcePort = masq ? flow.MasqPort : reply.DestPort,
            DestPort = flow.NatPort,
            Proto = reply.Proto,
            Family = reply.Family,
        };
    }
}
