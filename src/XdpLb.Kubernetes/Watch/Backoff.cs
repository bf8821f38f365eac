namespace XdpLb.Kubernetes.Watch;

/// <summary>Exponential reconnect delay with jitter (client-go's reflector backs off 0.8 s to 30 s).</summary>
public sealed class Backoff
{
    private readonly TimeSpan initial;
    private readonly TimeSpan max;
    private TimeSpan next;

    public Backoff(TimeSpan initial, TimeSpan max)
    {
        this.initial = initial;
        this.max = max;
        next = initial;
    }

    public TimeSpan Next()
    {
        var delay = next;
        next = TimeSpan.FromTicks(Math.Min(max.Ticks, next.Ticks * 2));
        // Jitter keeps thousands of nodes from reconnecting to a restarted apiserver in step.
        return delay * (0.75 + Random.Shared.NextDouble() * 0.5);
    }

    public void Reset() => next = initial;
}
