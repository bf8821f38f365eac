using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Core.Reconcile;

/// <summary>
/// kube-proxy's graceful termination (docs/kube-proxy.md §4): a TCP backend that leaves a service
/// while it still has connections is kept with weight 0, so it takes no new ones and its
/// open ones finish; it is removed at the first sync that finds it without connections.
/// UDP and SCTP backends go at once (their flows are expired or purged, so DNS does not
/// black-hole). An endpoint that comes back is simply wanted again, with its weight.
/// </summary>
public sealed class GracefulTermination
{
    private Dictionary<ServiceKey, IReadOnlyList<Backend>> draining = new();

    /// <summary>The backends kept at weight 0 by the last <see cref="Apply"/>.</summary>
    public IReadOnlyDictionary<ServiceKey, IReadOnlyList<Backend>> Draining => draining;

    /// <param name="connections">A backend's active + inactive connections in the dataplane now.</param>
    public LbConfig Apply(LbConfig desired, IReadOnlyDictionary<ServiceKey, Service> applied, Func<ServiceKey, Backend, long> connections)
    {
        var next = new Dictionary<ServiceKey, IReadOnlyList<Backend>>();
        var services = new List<Service>(desired.Services.Count);
        long backends = desired.Services.Sum(s => (long)s.Backends.Count);
        foreach (var service in desired.Services)
        {
            if (service.Key is not { } key || service.Protocol != Protocol.Tcp || !applied.TryGetValue(key, out var current))
            {
                services.Add(service);
                continue;
            }
            HashSet<(IPAddress, ushort)>? wanted = null;
            List<Backend>? kept = null;
            foreach (var b in current.Backends)
            {
                wanted ??= service.Backends.Select(w => (w.Address, w.Port)).ToHashSet();
                if (wanted.Contains((b.Address, b.Port)) || connections(key, b) <= 0)
                    continue;
                (kept ??= []).Add(b with { Weight = 0 });
            }
            if (kept is null)
            {
                services.Add(service);
                continue;
            }
            var draining = service with { Backends = [.. service.Backends, .. kept] };
            // Draining never takes the dataplane past its limits: a sync that fails there
            // would hold back every other change until the drain ends. Then they go at once.
            if (backends + kept.Count > desired.Limits.Backends || Config.ConfigValidator.ValidateService(draining).Count > 0)
            {
                services.Add(service);
                continue;
            }
            backends += kept.Count;
            next[key] = kept;
            services.Add(draining);
        }
        draining = next;
        return desired with { Services = services };
    }
}
