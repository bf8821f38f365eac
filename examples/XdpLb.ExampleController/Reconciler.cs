using Grpc.Core;
using XdpLb.Api.V1;

namespace XdpLb.ExampleController;

/// <summary>
/// Makes the agent serve what the description says for this controller: each service is
/// applied at the generation last read (a write in between makes it read again), and its own
/// services that the description no longer has are deleted. Others' services are left alone.
/// </summary>
public sealed class Reconciler(Controller.ControllerClient api, string controller)
{
    private const int Attempts = 3;

    /// <summary>True when every described service is served as described and nothing stale is left.</summary>
    public async Task<bool> ReconcileAsync(IReadOnlyList<ServiceSpec> desired, CancellationToken cancel)
    {
        bool ok = true;
        foreach (var spec in desired)
            ok &= await ApplyAsync(spec, cancel);
        var wanted = desired.Select(ServiceDescription.KeyOf).ToHashSet();
        var mine = await api.ListServicesAsync(new ListDeclaredServicesRequest { Owner = controller }, cancellationToken: cancel);
        foreach (var stale in mine.Services.Where(s => !wanted.Contains(ServiceDescription.KeyOf(s.Spec))))
            ok &= await DeleteAsync(stale, cancel);
        return ok;
    }

    private async Task<bool> ApplyAsync(ServiceSpec spec, CancellationToken cancel)
    {
        string key = ServiceDescription.KeyOf(spec);
        for (int attempt = 1; ; attempt++)
        {
            var current = await GetAsync(ServiceDescription.RefOf(spec), cancel);
            if (current is not null && current.Owner != controller)
                return Report($"skipped {key}: owned by \"{current.Owner}\"", ok: false);
            // 0: it must not exist yet. The agent refuses the write if the service changed since we read it.
            ulong expected = current?.Generation ?? 0;
            try
            {
                var applied = await api.ApplyServiceAsync(
                    new ApplyServiceRequest { Controller = controller, Service = spec, ExpectedGeneration = expected }, cancellationToken: cancel);
                // The same content keeps its generation.
                string what = applied.Generation == expected ? "unchanged" : "applied";
                return Report($"{what} {key} generation {applied.Generation} ({applied.Spec.Backends.Count} backends)", ok: true);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && attempt < Attempts)
            {
                Report($"conflict on {key}: {e.Status.Detail}; reading it again", ok: true);
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                return Report($"refused {key}: {e.StatusCode}: {e.Status.Detail}", ok: false);
            }
        }
    }

    private async Task<DeclaredService?> GetAsync(ServiceRef service, CancellationToken cancel)
    {
        try
        {
            return await api.GetServiceAsync(new GetServiceRequest { Service = service }, cancellationToken: cancel);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    private async Task<bool> DeleteAsync(DeclaredService service, CancellationToken cancel)
    {
        string key = ServiceDescription.KeyOf(service.Spec);
        try
        {
            await api.DeleteServiceAsync(new DeleteServiceRequest
            {
                Controller = controller, Service = ServiceDescription.RefOf(service.Spec), ExpectedGeneration = service.Generation,
            }, cancellationToken: cancel);
            return Report($"deleted {key}", ok: true);
        }
        catch (RpcException e) when (e.StatusCode is not StatusCode.Cancelled)
        {
            // A stale generation here means another instance under our name wrote it: the next reconcile decides again.
            return Report($"not deleted {key}: {e.StatusCode}: {e.Status.Detail}", ok: false);
        }
    }

    private static bool Report(string line, bool ok)
    {
        Console.WriteLine($"reconcile: {line}");
        return ok;
    }
}
