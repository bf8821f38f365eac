using System.Net;
using k8s.Models;

namespace XdpLb.Kubernetes.Translation;

/// <summary>
/// The endpoints of one service port across a service's EndpointSlices, as kube-proxy's
/// EndpointSliceCache reads them: the slice port with the service port's name and protocol
/// gives the port; each endpoint's first address is used; an address listed by several
/// slices counts once, ready if any says so. Unusable entries are reported, not fatal.
/// </summary>
public static class EndpointSliceReader
{
    public static IReadOnlyList<KubeEndpoint> Read(IEnumerable<V1EndpointSlice> slices, string? portName, string protocol,
        ICollection<string> problems)
    {
        var byTarget = new Dictionary<(IPAddress, ushort), KubeEndpoint>();
        var order = new List<(IPAddress, ushort)>();
        foreach (var slice in slices)
        {
            if (slice.AddressType is not ("IPv4" or "IPv6"))
                continue; // FQDN slices are not proxied
            var port = slice.Ports?.FirstOrDefault(p => (p.Name ?? "") == (portName ?? "") && (p.Protocol ?? "TCP") == protocol);
            if (port?.Port is not int number)
                continue;
            if (number is < 1 or > 65535)
            {
                problems.Add($"endpointslice {slice.Namespace()}/{slice.Name()}: ports: {number} is not a port (1-65535)");
                continue;
            }
            foreach (var e in slice.Endpoints ?? [])
            {
                string? text = e.Addresses?.FirstOrDefault();
                if (text is null)
                    continue;
                if (!IPAddress.TryParse(text, out var address) || Family(address) != slice.AddressType)
                {
                    problems.Add($"endpointslice {slice.Namespace()}/{slice.Name()}: endpoints: \"{text}\" is not an {slice.AddressType} address");
                    continue;
                }
                bool ready = e.Conditions?.Ready ?? true;
                // As kube-proxy reads them: a missing serving is true (not ready's value).
                var endpoint = new KubeEndpoint(address, (ushort)number, ready, e.Conditions?.Serving ?? true,
                    e.Conditions?.Terminating ?? false, e.NodeName,
                    (e.Hints?.ForZones ?? []).Select(z => z.Name).ToHashSet(),
                    (e.Hints?.ForNodes ?? []).Select(n => n.Name).ToHashSet());
                var key = (address, (ushort)number);
                if (!byTarget.TryGetValue(key, out var seen))
                {
                    order.Add(key);
                    byTarget[key] = endpoint;
                }
                else if (!seen.Ready && endpoint.Ready)
                {
                    byTarget[key] = endpoint;
                }
            }
        }
        return order.Select(k => byTarget[k]).ToList();
    }

    private static string Family(IPAddress a) => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "IPv4" : "IPv6";
}
