using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;

namespace XdpLb.Agent;

/// <summary>
/// Starts first and stops last: opens the desired state, has the selector choose a dataplane
/// and start a forwarder on it, filled; at the stop, the exit summary and what --detach-on-exit removes. The services
/// started after it (sync loop, sweeps, API) use what it started.
/// </summary>
internal sealed class ForwardingService(RunOptions options, AgentMetrics metrics, ILoggerFactory loggers) : IHostedService, IDisposable
{
    private readonly ILogger log = loggers.CreateLogger<ForwardingService>();
    private CompositeStateSource? source;
    private IForwarder? forwarder;

    /// <summary>The flags, with the interfaces Kubernetes chose when none were given.</summary>
    public RunOptions Options { get; private set; } = options;

    public CompositeStateSource Source => source ?? throw new InvalidOperationException("the dataplane has not started");

    public IForwarder Forwarder => forwarder ?? throw new InvalidOperationException("the dataplane has not started");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var effective = Options;
        source = DesiredState.Open(ref effective, metrics, loggers, cancellationToken);
        Options = effective;
        forwarder = new DataplaneSelector(effective, metrics, loggers).Start(source);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (forwarder is null)
            return Task.CompletedTask;
        forwarder.Stop();
        forwarder.Dispose();
        forwarder = null;
        log.Info("stopped");
        Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Also where a start that failed later (the API's address taken) lets go: XDP stays attached, as at any stop.</summary>
    public void Dispose()
    {
        forwarder?.Dispose();
        forwarder = null;
        source?.Dispose();
        source = null;
    }
}
