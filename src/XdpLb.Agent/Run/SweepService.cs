using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using XdpLb.Core.Logging;

namespace XdpLb.Agent;

/// <summary>
/// The dataplane's clock: each second, idle connections expire (IPVS expires them by
/// per-connection timers; the XDP table has none); every 2 s a sample for the rates, as
/// IPVS's estimator takes them.
/// </summary>
internal sealed class SweepService(ForwardingService forwarding, ILogger<SweepService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var syncLoop = forwarding.Forwarder.SyncLoop;
        var sampleRates = forwarding.Forwarder.SampleRates;
        sampleRates?.Invoke();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            for (long tick = 1; await timer.WaitForNextTickAsync(stoppingToken); tick++)
            {
                syncLoop.Sweep();
                if (tick % 2 == 0)
                    sampleRates?.Invoke();
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // The host stops on it; this line says why.
            log.Error("connection expiry and rates failed", ("error", e.ToString()));
            throw;
        }
    }
}
