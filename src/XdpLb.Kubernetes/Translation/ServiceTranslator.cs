using System.Net;
using System.Net.Sockets;
using k8s.Models;
using XdpLb.Core.Config;
using XdpLb.Core.Model;
using Service = XdpLb.Core.Model.Service;

namespace XdpLb.Kubernetes.Translation;

/// <summary>
/// Services and EndpointSlices in, virtual servers out, as kube-proxy's IPVS proxier builds
/// them (docs/kube-proxy.md §2, §3, §5.1): per service port, one for each ClusterIP, externalIP,
/// LoadBalancer ingress IP and (with a nodePort) node address. Masquerading where kube-proxy
/// masquerades: external traffic unless externalTrafficPolicy is Local, ClusterIP traffic from
/// outside clusterCIDR, and everything with masqueradeAll. Pure: the same snapshot always gives the same result.
/// </summary>
public static class ServiceTranslator
{
    public const string ServiceProxyNameLabel = "service.kubernetes.io/service-proxy-name";
    public const uint DefaultAffinitySeconds = 10800;

    public static TranslationResult Translate(ClusterSnapshot snapshot, NodeContext node, ProxySettings settings, bool sctpSupported = true) =>
        Merge(snapshot.Services.Select(svc => TranslateOne(svc, snapshot.SlicesOf(svc), node, settings, sctpSupported)));

    /// <summary>
    /// All services' virtual servers in order; an address:port:protocol a service earlier in
    /// namespace/name order already has is left out, named.
    /// </summary>
    public static TranslationResult Merge(IEnumerable<ServiceTranslation> translations)
    {
        var services = new List<Service>();
        var seen = new Dictionary<ServiceKey, string>();
        var health = new List<HealthCheck>();
        var skipped = new List<string>();
        var problems = new List<string>();
        int noLocalInternal = 0, noLocalExternal = 0;
        foreach (var t in translations)
        {
            skipped.AddRange(t.Skipped);
            problems.AddRange(t.Problems);
            if (t.Health is { } h)
                health.Add(h);
            // kube-proxy counts services (namespace/name), not their ports.
            noLocalInternal += t.NoLocalInternal ? 1 : 0;
            noLocalExternal += t.NoLocalExternal ? 1 : 0;
            foreach (var (kind, service) in t.VirtualServers)
            {
                if (seen.TryAdd(service.Key!, service.Name!))
                    services.Add(service);
                else
                    problems.Add($"service {service.Name} ({kind}): {service.Key} is already served for {seen[service.Key!]}; this one is left out");
            }
        }
        return new TranslationResult(services, health, skipped, problems, noLocalInternal, noLocalExternal);
    }

    /// <summary>One Service with its EndpointSlices: what it depends on, and nothing else (so it can be cached).</summary>
    public static ServiceTranslation TranslateOne(V1Service svc, IReadOnlyList<V1EndpointSlice> slices, NodeContext node, ProxySettings settings,
        bool sctpSupported)
    {
        var name = new ServiceName(svc.Namespace() ?? "", svc.Name() ?? "");
        var servers = new List<(string Kind, Service Service)>();
        HealthCheck? health = null;
        var skipped = new List<string>();
        var problems = new List<string>();
        bool noLocalInternal = false, noLocalExternal = false;
        string? why = SkipReason(svc);
        if (why is not null)
            return new ServiceTranslation(name, [], null, [$"service {name}: {why}"], [], false, false);
        var spec = svc.Spec;
        bool internalLocal = spec.InternalTrafficPolicy == "Local";
        bool externalLocal = spec.ExternalTrafficPolicy == "Local" && HasExternal(svc);
        var localReady = new HashSet<IPAddress>();

        foreach (var port in spec.Ports ?? [])
        {
            string protocol = port.Protocol ?? "TCP";
            string portLabel = string.IsNullOrEmpty(port.Name) ? name.ToString() : $"{name}:{port.Name}";
            if (!TryProtocol(protocol, out var proto))
            {
                problems.Add($"service {portLabel}: ports: protocol \"{protocol}\" is not TCP, UDP or SCTP");
                continue;
            }
            if (proto == Protocol.Sctp && !sctpSupported)
            {
                skipped.Add($"service {portLabel}: protocol SCTP: the XDP dataplane passes SCTP to the kernel (run --dataplane ipvs to serve it)");
                continue;
            }
            if (port.Port is < 1 or > 65535)
            {
                problems.Add($"service {portLabel}: ports: {port.Port} is not a port (1-65535)");
                continue;
            }

            var families = Families(svc);
            // A single-stack service's proxier never sees addresses of the other family.
            var externalIps = Addresses(spec.ExternalIPs ?? [], $"service {portLabel}: externalIPs", problems)
                .Where(ip => families.Contains(ip.AddressFamily)).ToList();
            // ipMode Proxy: the cloud's proxy delivers to the node, not to the VIP.
            var loadBalancerIps = spec.Type != "LoadBalancer" ? []
                : Addresses((svc.Status?.LoadBalancer?.Ingress ?? []).Where(i => i.Ip is not null && i.IpMode != "Proxy").Select(i => i.Ip),
                    $"service {portLabel}: status.loadBalancer.ingress", problems).Where(ip => families.Contains(ip.AddressFamily)).ToList();
            int nodePort = port.NodePort is > 0 && spec.Type is "NodePort" or "LoadBalancer" ? port.NodePort.Value : 0;
            // kube-proxy's UsesClusterEndpoints / UsesLocalEndpoints, per port.
            bool externallyAccessible = nodePort > 0 || loadBalancerIps.Count > 0 || externalIps.Count > 0;
            bool portExternalLocal = externalLocal && externallyAccessible;

            var endpoints = EndpointSliceReader.Read(slices, port.Name, protocol, problems);
            var categories = EndpointCategorizer.Categorize(endpoints, usesCluster: !internalLocal || externallyAccessible,
                usesLocal: internalLocal || portExternalLocal, node.Name, node.Zone);
            localReady.UnionWith(endpoints.Where(e => e.Ready && e.IsOn(node.Name)).Select(e => e.Address));

            // Under a Local policy with no local endpoint, the IPVS proxier uses the cluster
            // endpoints (PR #97081: node-local clients keep reaching the service); a port
            // that is not externally accessible has none under internalTrafficPolicy Local,
            // so its ClusterIP then has no backend, as the policy promises.
            var internalSet = !internalLocal ? categories.Cluster : categories.Local.Count > 0 ? categories.Local : categories.Cluster;
            var externalSet = !portExternalLocal ? categories.Cluster : categories.Local.Count > 0 ? categories.Local : categories.Cluster;
            if (internalLocal && categories.Local.Count == 0 && categories.HasAny)
                noLocalInternal = true;
            if (portExternalLocal && categories.Local.Count == 0 && categories.HasAny)
                noLocalExternal = true;

            var template = new Service
            {
                Name = portLabel,
                Port = (ushort)port.Port,
                Protocol = proto,
                Scheduler = settings.Scheduler,
                Flags = settings.SchedulerFlags,
                Persistence = Affinity(svc),
            };
            void Add(string kind, IPAddress address, ushort vsPort, IReadOnlyList<KubeEndpoint> set, Forwarding forwarding,
                IReadOnlyList<string>? sourceRanges = null, bool masqueradeOutsideCluster = false)
            {
                var service = template with
                {
                    Address = address,
                    Port = vsPort,
                    Forwarding = forwarding,
                    MasqueradeOutsideCluster = masqueradeOutsideCluster,
                    SourceRanges = sourceRanges?.Where(r => SameFamily(r, address)).ToList() ?? [],
                    Backends = Backends(set, address.AddressFamily),
                };
                var errors = ConfigValidator.ValidateService(service);
                if (errors.Count > 0)
                {
                    problems.AddRange(errors.Select(e => $"service {portLabel} ({kind}): {e}"));
                    return;
                }
                servers.Add((kind, service));
            }

            var clusterForwarding = settings.MasqueradeAll ? Forwarding.Masq : Forwarding.Nat;
            var externalForwarding = portExternalLocal ? Forwarding.Nat : Forwarding.Masq;
            foreach (var ip in Addresses(spec.ClusterIPs ?? (spec.ClusterIP is null ? [] : [spec.ClusterIP]), $"service {portLabel}: clusterIPs", problems))
                // kube-proxy's local-traffic detector works per family: without a clusterCIDR
                // of the address's family, nothing is masqueraded.
                Add("clusterIP", ip, (ushort)port.Port, internalSet, clusterForwarding,
                    masqueradeOutsideCluster: !settings.MasqueradeAll && settings.ClusterCidrs.Any(c => c.BaseAddress.AddressFamily == ip.AddressFamily));
            foreach (var ip in externalIps)
                Add("externalIP", ip, (ushort)port.Port, externalSet, externalForwarding);
            var sourceRanges = SourceRanges(spec.LoadBalancerSourceRanges, $"service {portLabel}: loadBalancerSourceRanges", problems);
            foreach (var ip in loadBalancerIps)
                Add("loadBalancer", ip, (ushort)port.Port, externalSet, externalForwarding, sourceRanges);
            if (nodePort > 0)
            {
                foreach (var ip in node.NodePortAddresses.Where(a => families.Contains(a.AddressFamily)))
                    Add("nodePort", ip, (ushort)nodePort, externalSet, externalForwarding);
            }
        }

        if (externalLocal && spec.HealthCheckNodePort is int hc and > 0 and <= 65535)
            health = new HealthCheck(name, (ushort)hc, localReady.Count);
        return new ServiceTranslation(name, servers, health, skipped, problems, noLocalInternal, noLocalExternal);
    }

    /// <summary>kube-proxy's ShouldSkipService, and services another proxy implements.</summary>
    private static string? SkipReason(V1Service svc)
    {
        if (svc.Labels()?.ContainsKey(ServiceProxyNameLabel) == true)
            return $"labelled {ServiceProxyNameLabel}: another proxy serves it";
        if (svc.Spec?.Type == "ExternalName")
            return "type ExternalName: DNS only";
        if (svc.Spec?.ClusterIP == "None")
            return "headless (clusterIP None): DNS only";
        if (string.IsNullOrEmpty(svc.Spec?.ClusterIP))
            return "no clusterIP allocated yet";
        return null;
    }

    private static bool HasExternal(V1Service svc) => svc.Spec.Type is "NodePort" or "LoadBalancer" || svc.Spec.ExternalIPs?.Count > 0;

    private static uint Affinity(V1Service svc) => svc.Spec.SessionAffinity == "ClientIP"
        ? (uint)Math.Clamp(svc.Spec.SessionAffinityConfig?.ClientIP?.TimeoutSeconds ?? (int)DefaultAffinitySeconds, 1, 86400)
        : 0;

    private static HashSet<AddressFamily> Families(V1Service svc)
    {
        var families = (svc.Spec.IpFamilies ?? []).Select(f => f == "IPv6" ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork).ToHashSet();
        if (families.Count == 0 && IPAddress.TryParse(svc.Spec.ClusterIP, out var ip))
            families.Add(ip.AddressFamily);
        return families;
    }

    private static IReadOnlyList<Backend> Backends(IReadOnlyList<KubeEndpoint> set, AddressFamily family) =>
        set.Where(e => e.Address.AddressFamily == family)
            // kube-proxy adds dests in no particular order; sorted, a new pod does not reorder the rest.
            .OrderBy(e => e.Address.GetAddressBytes(), ByteOrder.Instance).ThenBy(e => e.Port)
            .Select(e => new Backend(e.Address, e.Port, Weight: 1, Local: false))
            .ToList();

    private static IEnumerable<IPAddress> Addresses(IEnumerable<string?> texts, string at, ICollection<string> problems)
    {
        foreach (var text in texts.Distinct())
        {
            if (IPAddress.TryParse(text, out var ip))
                yield return ip;
            else
                problems.Add($"{at}: \"{text}\" is not an IP address");
        }
    }

    private static bool SameFamily(string cidr, IPAddress address) =>
        !IPNetwork.TryParse(cidr, out var network) || network.BaseAddress.AddressFamily == address.AddressFamily;

    /// <summary>
    /// The API server takes ranges as Go's ParseCIDRSloppy does (spaces around, host bits
    /// set): they are made canonical here; one that does not parse is reported and left out.
    /// </summary>
    private static IReadOnlyList<string> SourceRanges(IEnumerable<string>? ranges, string at, ICollection<string> problems)
    {
        var result = new List<string>();
        foreach (var text in ranges ?? [])
        {
            if (CidrText.TryParse(text.Trim(), out var network))
                result.Add(network.ToString());
            else
                problems.Add($"{at}: \"{text}\" is not a CIDR; the range is left out");
        }
        return result;
    }

    private static bool TryProtocol(string text, out Protocol protocol)
    {
        protocol = text switch { "TCP" => Protocol.Tcp, "UDP" => Protocol.Udp, "SCTP" => Protocol.Sctp, _ => (Protocol)(-1) };
        return (int)protocol >= 0;
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x!.AsSpan().SequenceCompareTo(y);
    }
}
