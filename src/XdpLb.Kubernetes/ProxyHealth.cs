namespace XdpLb.Kubernetes;

/// <summary>
/// kube-proxy's health rule (proxierHealthServer): healthy unless a change has been waiting
/// longer than <see cref="HealthTimeout"/> for a sync to apply it. No change waiting, including
/// before anything has happened at all, is healthy. Node eligibility is kept apart: /healthz
/// requires it, /livez and the service health checks do not. Thread-safe.
/// </summary>
public sealed class ProxyHealth
{
    private readonly Lock _lock = new();
    private DateTime? _oldestPendingQueued;
    private DateTime? _lastUpdated;
    // Eligible while starting up, until a Node object says otherwise, as kube-proxy assumes.
    private bool _nodeEligible = true;

    public ProxyHealth(TimeSpan healthTimeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(healthTimeout, TimeSpan.Zero);
        HealthTimeout = healthTimeout;
    }

    /// <summary>kube-proxy's choice of timeout: two sync periods.</summary>
    public static ProxyHealth ForSyncPeriod(TimeSpan syncPeriod) => new(2 * syncPeriod);

    public TimeSpan HealthTimeout { get; }

    /// <summary>A change arrived that a sync has yet to apply; only the oldest one waiting counts.</summary>
    public void QueuedUpdate(DateTime now)
    {
        lock (_lock)
            _oldestPendingQueued ??= now;
    }

    /// <summary>A sync applied everything queued so far.</summary>
    public void Updated(DateTime now)
    {
        lock (_lock)
        {
            _oldestPendingQueued = null;
            _lastUpdated = now;
        }
    }

    public void SetNodeEligible(bool eligible)
    {
        lock (_lock)
            _nodeEligible = eligible;
    }

    public bool IsHealthy(DateTime now) => Check(now).Healthy;

    public ProxyHealthStatus Check(DateTime now)
    {
        lock (_lock)
        {
            bool healthy = _oldestPendingQueued is not { } pending || now - pending < HealthTimeout;
            return new ProxyHealthStatus(healthy, _nodeEligible, _lastUpdated, now);
        }
    }
}

/// <summary>One reading of <see cref="ProxyHealth"/>; <see cref="LastUpdated"/> is null before the first sync.</summary>
public sealed record ProxyHealthStatus(bool Healthy, bool NodeEligible, DateTime? LastUpdated, DateTime CurrentTime);
