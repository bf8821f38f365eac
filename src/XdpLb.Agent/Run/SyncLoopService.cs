using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;

namespace XdpLb.Agent;

/// <summary>
/// Keeps the dataplane in sync with the desired state: a change of the source, a write over
/// the API or SIGHUP asks for a reload, and the loop resyncs fully every syncPeriod.
/// </summary>
internal sealed class SyncLoopService(ForwardingService forwarding, ILogger<SyncLoopService> log) : BackgroundService
{
    private PosixSignalRegistration? sighup;

    // Before the API starts, not in ExecuteAsync (which the host runs later, on a thread of the
    // pool): a SIGHUP that arrives once the agent is ready must find the handler in place, or
    // its default action ends the agent.
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var syncLoop = forwarding.Forwarder.SyncLoop;
        var source = forwarding.Source;
        // SIGTERM and SIGINT are the host's (its console lifetime); SIGHUP is the daemons'
        // "read your config again", which the host leaves alone.
        sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
        {
            ctx.Cancel = true;
            log.Info("SIGHUP: reloading the config", ("config", source.Description));
            syncLoop.RequestReload();
        });
        source.Watch(syncLoop.RequestReload);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await forwarding.Forwarder.SyncLoop.RunAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The host stops on it; this line says why.
            log.Error("sync loop failed", ("error", e.ToString()));
            throw;
        }
    }

    public override void Dispose()
    {
        sighup?.Dispose();
        base.Dispose();
    }
}
