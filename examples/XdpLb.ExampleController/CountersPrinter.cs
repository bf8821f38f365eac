using Grpc.Core;
using XdpLb.Api.V1;

namespace XdpLb.ExampleController;

/// <summary>Prints the per-backend counters of every service at each interval, until cancelled.</summary>
public static class CountersPrinter
{
    public static async Task RunAsync(Controller.ControllerClient api, uint intervalMs, CancellationToken cancel)
    {
        using var counters = api.StreamCounters(new StreamCountersRequest { IntervalMs = intervalMs }, cancellationToken: cancel);
        await foreach (var snapshot in counters.ResponseStream.ReadAllAsync(cancel))
        {
            foreach (var service in snapshot.Services)
            {
                string key = ServiceDescription.KeyOf(service.Address, service.Port, service.Protocol);
                foreach (var b in service.Backends)
                    Console.WriteLine($"counters: {key} {ServiceDescription.EndpointOf(b.Address, b.Port)} conns {b.Stats.Conns} " +
                        $"packets {b.Stats.InPackets}/{b.Stats.OutPackets} bytes {b.Stats.InBytes}/{b.Stats.OutBytes}");
            }
        }
    }
}
