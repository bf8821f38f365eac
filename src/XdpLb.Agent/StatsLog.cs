using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;
using XdpLb.Core.Model;
using XdpLb.Core.Status;

namespace XdpLb.Agent;

/// <summary>Each service's and backend's counters as log lines (the agent's exit summary).</summary>
internal static class StatsLog
{
    public static void Write(ILogger log, IEnumerable<VirtualServer> services)
    {
        foreach (var s in services)
        {
            var service = new ServiceKey(s.Address, s.Port, s.Protocol);
            foreach (var d in s.RealServers)
                log.Info("backend stats", ("service", service), ("backend", new Backend(d.Address, d.Port)), ("conns", d.Stats.Conns),
                    ("active", d.ActiveConns), ("inactive", d.InactiveConns), ("packets_in", d.Stats.InPackets),
                    ("packets_out", d.Stats.OutPackets), ("bytes_in", d.Stats.InBytes), ("bytes_out", d.Stats.OutBytes));
            log.Info("service stats", ("service", service), ("conns", s.Stats.Conns),
                ("active", s.RealServers.Sum(d => (long)d.ActiveConns)), ("inactive", s.RealServers.Sum(d => (long)d.InactiveConns)),
                ("packets_in", s.Stats.InPackets), ("packets_out", s.Stats.OutPackets), ("bytes_in", s.Stats.InBytes), ("bytes_out", s.Stats.OutBytes));
        }
    }
}
