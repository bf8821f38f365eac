using Prometheus;

namespace XdpLb.Agent;

/// <summary>
/// kube-proxy's metric names beside xdplb's own, so dashboards and alerts written for
/// kube-proxy keep working (pkg/proxy/metrics): sync duration and time, network programming
/// latency, and services whose Local policy found no local endpoint.
/// </summary>
internal sealed class KubeProxyMetrics
{
    public KubeProxyMetrics(MetricFactory factory)
    {
        var buckets = Histogram.ExponentialBuckets(0.001, 2, 15);
        SyncDuration = factory.CreateHistogram("kubeproxy_sync_proxy_rules_duration_seconds",
            "SyncProxyRules latency in seconds", new HistogramConfiguration { Buckets = buckets });
        LastSync = factory.CreateGauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds",
            "The last time proxy rules were successfully synced");
        LastQueued = factory.CreateGauge("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds",
            "The last time a sync of proxy rules was queued");
        NetworkProgramming = factory.CreateHistogram("kubeproxy_network_programming_duration_seconds",
            "In Cluster Network Programming Latency in seconds",
            new HistogramConfiguration { Buckets = [0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 45, 60, 120, 180, 240, 300] });
        NoLocalEndpoints = factory.CreateGauge("kubeproxy_sync_proxy_rules_no_local_endpoints_total",
            "Number of services with a Local traffic policy and no endpoints", "traffic_policy");
        EndpointChanges = factory.CreateCounter("kubeproxy_sync_proxy_rules_endpoint_changes_total", "Cumulative proxy rules Endpoint changes");
        ServiceChanges = factory.CreateCounter("kubeproxy_sync_proxy_rules_service_changes_total", "Cumulative proxy rules Service changes");
        Skipped = factory.CreateGauge("xdplb_kubernetes_services_skipped",
            "Service ports not proxied by design: headless, ExternalName, another proxy's, SCTP on the XDP dataplane.");
        LeftOut = factory.CreateGauge("xdplb_kubernetes_objects_left_out",
            "Service ports and endpoints left out because the objects are wrong (the log names them).");
    }

    public Histogram SyncDuration { get; }
    public Gauge LastSync { get; }
    public Gauge LastQueued { get; }
    public Histogram NetworkProgramming { get; }
    public Gauge NoLocalEndpoints { get; }
    public Counter EndpointChanges { get; }
    public Counter ServiceChanges { get; }
    public Gauge Skipped { get; }
    public Gauge LeftOut { get; }
}
