using System.Net;

namespace XdpLb.Core.Model;

/// <summary>
/// NodePort services made concrete: one virtual service per node address (of the families
/// the service's backends have), as kube-proxy's IPVS proxier creates one per node IP. With
/// externalTrafficPolicy local only the backends marked local serve it (the client's
/// address is kept: there is no masquerading in nat mode).
/// </summary>
public static class NodePorts
{
    public static LbConfig Expand(LbConfig config, IReadOnlyList<IPAddress> nodeAddresses)
    {
        if (!config.Services.Any(s => s.NodePort))
            return config;
        var explicitKeys = config.Services.Where(s => s.Key is not null).Select(s => s.Key!).ToHashSet();
        var services = config.Services.Where(s => !s.NodePort).ToList();
        foreach (var service in config.Services.Where(s => s.NodePort))
        {
            var backends = service.ExternalTrafficPolicy == TrafficPolicy.Local ? service.Backends.Where(b => b.Local).ToList() : service.Backends.ToList();
            var families = service.Backends.Count == 0
                ? nodeAddresses.Select(a => a.AddressFamily).ToHashSet()
                : service.Backends.Select(b => b.Address.AddressFamily).ToHashSet();
            foreach (var address in nodeAddresses.Where(a => families.Contains(a.AddressFamily)))
            {
                var concrete = service with
                {
                    Address = address,
                    Backends = backends.Where(b => b.Address.AddressFamily == address.AddressFamily).ToList(),
                };
                // A service configured on that very address and port wins over the node port.
                if (explicitKeys.Add(concrete.Key!))
                    services.Add(concrete);
            }
        }
        return config with { Services = services };
    }
}
