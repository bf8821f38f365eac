using Grpc.Core;
using Microsoft.Extensions.Hosting;
using XdpLb.Api.V1;

namespace XdpLb.Api.Controller;

/// <summary>
/// The xdplb.v1.Controller service: the write API over the declared services, and the
/// counters stream. Streams end when the client goes or the agent stops (which must not wait for them).
/// </summary>
public sealed class ControllerService(DeclaredServices store, IAgentView view, IHostApplicationLifetime lifetime) : V1.Controller.ControllerBase
{
    public const int MinIntervalMs = 100;
    public const int DefaultIntervalMs = 1000;

    public override Task<DeclaredService> ApplyService(ApplyServiceRequest request, ServerCallContext context) =>
        Task.FromResult(store.Apply(request));

    public override Task<DeclaredService> PatchBackends(PatchBackendsRequest request, ServerCallContext context) =>
        Task.FromResult(store.Patch(request));

    public override Task<DeleteServiceResponse> DeleteService(DeleteServiceRequest request, ServerCallContext context)
    {
        store.Delete(request);
        return Task.FromResult(new DeleteServiceResponse());
    }

    public override Task<DeclaredService> GetService(GetServiceRequest request, ServerCallContext context) =>
        Task.FromResult(store.Get(request.Service));

    public override Task<ListDeclaredServicesResponse> ListServices(ListDeclaredServicesRequest request, ServerCallContext context) =>
        Task.FromResult(new ListDeclaredServicesResponse { Services = { store.List(request.Owner) } });

    public override async Task WatchServices(WatchServicesRequest request, IServerStreamWriter<ServiceEvent> responseStream, ServerCallContext context)
    {
        using var watch = store.Watch();
        using var ending = Ending(context);
        try
        {
            await foreach (var e in watch.Events.ReadAllAsync(ending.Token))
                await responseStream.WriteAsync(e, ending.Token);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    public override async Task StreamCounters(StreamCountersRequest request, IServerStreamWriter<CountersSnapshot> responseStream, ServerCallContext context)
    {
        int interval = request.IntervalMs == 0 ? DefaultIntervalMs : (int)Math.Min(request.IntervalMs, int.MaxValue);
        if (interval < MinIntervalMs)
            throw ApiError.Invalid($"interval_ms: {request.IntervalMs} is below the minimum of {MinIntervalMs}");
        string? service = request.Service is null ? null : SpecMapping.ToKey(request.Service).ToString();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(interval));
        using var ending = Ending(context);
        try
        {
            do
            {
                var stats = view.Stats(service);
                if (service is not null && stats.Services.Count == 0)
                    throw ApiError.NotFound($"service {service}: not served");
                await responseStream.WriteAsync(new CountersSnapshot
                {
                    UnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    Services = { stats.Services },
                }, ending.Token);
            }
            while (await timer.WaitForNextTickAsync(ending.Token));
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private CancellationTokenSource Ending(ServerCallContext context) =>
        CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
}
