using System.Net.Sockets;
using XdpLb.Bpf.Maps;
using XdpLb.Core.Model;
using XdpLb.Core.Status;

namespace XdpLb.Bpf;

/// <summary>Reads the XDP data path's services, counters and connections in the shape ipvsadm shows them.</summary>
public static class XdpStatusReader
{
    /// <param name="rateOf">A backend's rate, by its id.</param>
    /// <param name="sock">The socket hooks, when attached: their translations per backend are read too.</param>
    public static List<VirtualServer> Services(XdpLbProgram program, XdpDataplane dataplane,
        Func<uint, TrafficCounters> rateOf, SockLbProgram? sock = null)
    {
        var traffic = program.ReadAllTraffic(dataplane.BackendIdLimit);
        var sockTraffic = sock?.ReadAllTraffic(dataplane.BackendIdLimit);
        var services = new List<VirtualServer>();
        foreach (var (key, service) in dataplane.Applied)
        {
            var dests = service.Backends.Select(b =>
            {
                uint id = dataplane.BackendId(key, b);
                var conns = program.BackendConns[id];
                return new RealServer(b.Address, b.Port, service.Forwarding, b.Weight, conns.Active, conns.Inactive,
                    Traffic(traffic[id]), rateOf(id),
                    sockTraffic is null ? null : new SocketTranslations(sockTraffic[id].Connects, sockTraffic[id].Datagrams));
            }).ToList();
            services.Add(new VirtualServer(service.Protocol, key.Address, key.Port, service.Scheduler, service.Flags, service.Persistence, dests,
                dests.Aggregate(new TrafficCounters(), (sum, d) => sum + d.Stats),
                dests.Aggregate(new TrafficCounters(), (sum, d) => sum + d.Rate)));
        }
        return services;
    }

    public static List<ConnectionEntry> Connections(XdpLbProgram program, XdpDataplane dataplane)
    {
        ulong now = Interop.Libc.MonotonicNanoseconds();
        var result = new List<ConnectionEntry>();
        program.Conntrack.ForEachBatch((keys, flows) =>
        {
            for (int i = 0; i < keys.Length; i++)
            {
                var (key, flow) = (keys[i], flows[i]);
                if (flow.Direction != FlowDirection.Request)
                    continue;
                var family = key.Family == 2 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
                var timeout = dataplane.Sweeper.TimeoutOf(key.Proto, flow.State);
                var idle = TimeSpan.FromTicks((long)((now - Math.Min(now, flow.LastSeenNs)) / 100));
                var left = timeout > idle ? timeout - idle : TimeSpan.Zero;
                result.Add(new ConnectionEntry(
                    key.Proto == 17 ? Protocol.Udp : Protocol.Tcp,
                    TimeSpan.FromSeconds(Math.Floor(left.TotalSeconds)),
                    key.Proto == 17 ? "UDP" : StateName(flow.State),
                    key.SourceAddr.ToIPAddress(family), NetworkOrder.HostPort(key.SourcePort),
                    key.DestAddr.ToIPAddress(family), NetworkOrder.HostPort(key.DestPort),
                    flow.NatAddr.ToIPAddress(family), NetworkOrder.HostPort(flow.NatPort)));
            }
        });
        return result;
    }

    /// <summary>IPVS's TCP state names (tcp_state_name_table).</summary>
    public static string StateName(TcpState state) => state switch
    {
        TcpState.None => "NONE",
        TcpState.Established => "ESTABLISHED",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynRecv => "SYN_RECV",
        TcpState.FinWait => "FIN_WAIT",
        TcpState.TimeWait => "TIME_WAIT",
        TcpState.Close => "CLOSE",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.LastAck => "LAST_ACK",
        TcpState.Listen => "LISTEN",
        TcpState.Synack => "SYNACK",
        _ => "BUG!",
    };

    private static TrafficCounters Traffic(BackendTraffic t) => new(t.Conns, t.PacketsIn, t.PacketsOut, t.BytesIn, t.BytesOut);
}
