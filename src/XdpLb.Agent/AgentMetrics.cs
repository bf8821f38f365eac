using Prometheus;
using XdpLb.Bpf;
using XdpLb.Core.Status;

namespace XdpLb.Agent;

/// <summary>
/// Prometheus metrics, read from the maps when scraped: per-service and per-backend
/// counters (conventional *_total names, labels service and backend), connection gauges,
/// the data path's outcome counters, map occupancy, and the sync duration and errors.
/// </summary>
internal sealed class AgentMetrics
{
    private readonly CollectorRegistry registry = Metrics.NewCustomRegistry();
    private readonly MetricFactory factory;

    public AgentMetrics()
    {
        factory = Metrics.WithCustomRegistry(registry);
        SyncDuration = factory.CreateHistogram("xdplb_sync_duration_seconds", "Time to bring the dataplane to the desired state.",
            new HistogramConfiguration { LabelNames = ["kind"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });
        SyncErrors = factory.CreateCounter("xdplb_sync_errors_total", "Syncs that failed (retried at the next one).");
        KubeProxy = new KubeProxyMetrics(factory);
    }

    public CollectorRegistry Registry => registry;
    public string Dataplane { get; private set; } = "";

    /// <summary>Once the dataplane is chosen (a source may be connected before that).</summary>
    public void SetDataplane(string dataplane)
    {
        Dataplane = dataplane;
        factory.CreateGauge("xdplb_dataplane_info", "The dataplane the agent runs (xdp or ipvs): always 1.", "dataplane")
            .WithLabels(dataplane).Set(1);
    }
    public Histogram SyncDuration { get; }
    public Counter SyncErrors { get; }
    public KubeProxyMetrics KubeProxy { get; }

    /// <summary>Refreshes the map-derived metrics before each scrape.</summary>
    public void Attach(SyncLoop syncLoop, XdpLbProgram program, XdpDataplane dataplane)
    {
        var serviceTotal = factory.CreateCounter("xdplb_service_connections_total", "Connections scheduled to the service.", "service");
        var servicePackets = factory.CreateCounter("xdplb_service_packets_total", "Packets of the service, by direction.", "service", "direction");
        var serviceBytes = factory.CreateCounter("xdplb_service_bytes_total", "IP-layer bytes of the service, by direction.", "service", "direction");
        var backendTotal = factory.CreateCounter("xdplb_backend_connections_total", "Connections scheduled to the backend.", "service", "backend");
        var backendPackets = factory.CreateCounter("xdplb_backend_packets_total", "Packets of the backend, by direction.", "service", "backend", "direction");
        var backendBytes = factory.CreateCounter("xdplb_backend_bytes_total", "IP-layer bytes of the backend, by direction.", "service", "backend", "direction");
        var active = factory.CreateGauge("xdplb_backend_active_connections", "IPVS ActiveConn: connections in ESTABLISHED.", "service", "backend");
        var inactive = factory.CreateGauge("xdplb_backend_inactive_connections", "IPVS InActConn: other TCP states and UDP.", "service", "backend");
        var outcomes = factory.CreateCounter("xdplb_datapath_packets_total", "Packets by what the data path did with them (drops by reason among them).", "outcome");
        var conntrackEvents = factory.CreateCounter("xdplb_conntrack_events_total",
            "Connections by what happened to them: opened, assured, expired (idle, reused, backend removed), reclaimed (tcp_half_open, udp_unanswered) or refused.", "event");
        var connections = factory.CreateGauge("xdplb_conntrack_connections", "Connections in the table (opened less ended, kept by the data path).");
        var connectionLimit = factory.CreateGauge("xdplb_conntrack_connections_limit", "limits.connections: the connections the table is sized for.");
        var entries = factory.CreateGauge("xdplb_map_entries", "Entries in a map.", "map");
        var capacity = factory.CreateGauge("xdplb_map_capacity", "The map's max_entries.", "map");

        registry.AddBeforeCollectCallback(() => syncLoop.Read(() =>
        {
            foreach (var s in XdpStatusReader.Services(program, dataplane, _ => new TrafficCounters()))
            {
                string service = new Core.Model.ServiceKey(s.Address, s.Port, s.Protocol).ToString();
                Set(serviceTotal.WithLabels(service), s.Stats.Conns);
                Set(servicePackets.WithLabels(service, "in"), s.Stats.InPackets);
                Set(servicePackets.WithLabels(service, "out"), s.Stats.OutPackets);
                Set(serviceBytes.WithLabels(service, "in"), s.Stats.InBytes);
                Set(serviceBytes.WithLabels(service, "out"), s.Stats.OutBytes);
                foreach (var d in s.RealServers)
                {
                    string backend = new Core.Model.Backend(d.Address, d.Port).ToString();
                    Set(backendTotal.WithLabels(service, backend), d.Stats.Conns);
                    Set(backendPackets.WithLabels(service, backend, "in"), d.Stats.InPackets);
                    Set(backendPackets.WithLabels(service, backend, "out"), d.Stats.OutPackets);
                    Set(backendBytes.WithLabels(service, backend, "in"), d.Stats.InBytes);
                    Set(backendBytes.WithLabels(service, backend, "out"), d.Stats.OutBytes);
                    active.WithLabels(service, backend).Set(d.ActiveConns);
                    inactive.WithLabels(service, backend).Set(d.InactiveConns);
                }
            }
            foreach (var (counter, value) in program.ReadCounters())
                Set(outcomes.WithLabels(Bpf.Btf.BtfNames.SnakeCase(counter.ToString())), value);
            entries.WithLabels("services").Set(program.Services.Count());
            capacity.WithLabels("services").Set(program.Services.MaxEntries);
            // The connection table is never walked here: its events say how full it is.
            var events = program.ReadConntrackEvents();
            foreach (var (e, value) in events)
                Set(conntrackEvents.WithLabels(Bpf.Btf.BtfNames.SnakeCase(e.ToString())), value);
            connections.Set(program.LiveConnections());
            connectionLimit.Set(program.Conntrack.MaxEntries / 2);
            capacity.WithLabels("conntrack").Set(program.Conntrack.MaxEntries);
            entries.WithLabels("backend_slots").Set(program.BackendSlots.Count());
            capacity.WithLabels("backend_slots").Set(program.BackendSlots.MaxEntries);
            entries.WithLabels("affinity").Set(program.Affinity.Count());
            capacity.WithLabels("affinity").Set(program.Affinity.MaxEntries);
        }));
    }

    // The maps hold the running totals; a counter follows them (never backwards).
    private static void Set(Counter.Child counter, ulong value) => counter.IncTo(value);
}
