using Grpc.Core;
using XdpLb.Api.V1;

namespace XdpLb.ExampleController;

/// <summary>Prints every service the agent serves (ADDED), then each change, until cancelled or the agent ends the stream.</summary>
public static class WatchPrinter
{
    public static async Task RunAsync(Controller.ControllerClient api, CancellationToken cancel)
    {
        using var watch = api.WatchServices(new WatchServicesRequest(), cancellationToken: cancel);
        await foreach (var change in watch.ResponseStream.ReadAllAsync(cancel))
        {
            var service = change.Service;
            Console.WriteLine($"watch: {change.Type.ToString().ToUpperInvariant()} {service.Owner} {ServiceDescription.KeyOf(service.Spec)} " +
                $"generation {service.Generation} backends {service.Spec.Backends.Count}");
        }
        Console.WriteLine("watch: the agent ended the stream");
    }
}
