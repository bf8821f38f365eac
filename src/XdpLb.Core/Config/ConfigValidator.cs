using System.Net;
using System.Net.Sockets;
using XdpLb.Core.Model;

namespace XdpLb.Core.Config;

/// <summary>
/// Rules that span fields or services, applied to a model from any source (config file,
/// Kubernetes, API). Each message names the service, the field and the value.
/// </summary>
public static class ConfigValidator
{
    /// <summary>The data path addresses a service's dests with 16-bit slot indexes (0xffff: empty).</summary>
    public const int MaxBackendsPerService = 65535;

    public static IReadOnlyList<string> Validate(LbConfig config)
    {
        var errors = new List<string>();
        var seen = new Dictionary<ServiceKey, string>();
        var seenNodePorts = new Dictionary<(ushort, Protocol), string>();
        long totalBackends = 0;
        foreach (var service in config.Services)
        {
            errors.AddRange(ValidateService(service));
            totalBackends += service.Backends.Count;
            if (service.Key is { } key && !seen.TryAdd(key, service.Label))
                errors.Add($"{service.Label}: duplicate of {seen[key]}: address, port and protocol must be unique");
            if (service.NodePort && !seenNodePorts.TryAdd((service.Port, service.Protocol), service.Label))
                errors.Add($"{service.Label}: nodePort {service.Port}/{Names.Of(service.Protocol)} is already used by {seenNodePorts[(service.Port, service.Protocol)]}");
        }
        foreach (var cidr in config.ClusterCidrs)
            if (!IPNetwork.TryParse(cidr, out _))
                errors.Add($"clusterCidrs: \"{cidr}\" is not a CIDR (e.g. 10.244.0.0/16)");
        if (config.Services.Count > config.Limits.Services)
            errors.Add($"limits.services: {config.Services.Count} services are configured but limits.services is {config.Limits.Services}");
        if (totalBackends > config.Limits.Backends)
            errors.Add($"limits.backends: {totalBackends} backends are configured but limits.backends is {config.Limits.Backends}");
        return errors;
    }

    public static IReadOnlyList<string> ValidateService(Service s)
    {
        var errors = new List<string>();
        string at = s.Label;
        if (s.Address is null && !s.NodePort)
            errors.Add($"{at}: address: required unless nodePort is true");
        if (s.Address is not null && s.NodePort)
            errors.Add($"{at}: address: \"{s.Address}\" must be left out when nodePort is true (a nodePort service matches every local address)");
        if (s.Port == 0)
            errors.Add($"{at}: port: 0 is not a port (1-65535)");

        foreach (var flag in s.Flags)
        {
            bool fits = flag is SchedulerFlag.ShPort or SchedulerFlag.ShFallback ? s.Scheduler == Scheduler.Sh : s.Scheduler == Scheduler.Mh;
            if (!fits)
                errors.Add($"{at}: flags: \"{Names.Of(flag)}\" does not apply to scheduler \"{Names.Of(s.Scheduler)}\"");
        }
        if (s.Flags.Distinct().Count() != s.Flags.Count)
            errors.Add($"{at}: flags: a flag is listed twice");

        foreach (var range in s.SourceRanges)
        {
            if (!IPNetwork.TryParse(range, out var network))
                errors.Add($"{at}: sourceRanges: \"{range}\" is not a CIDR (e.g. 10.0.0.0/8)");
            else if (s.Address is not null && network.BaseAddress.AddressFamily != s.Address.AddressFamily)
                errors.Add($"{at}: sourceRanges: \"{range}\" is not of the service address's family");
        }

        if (s.Scheduler == Scheduler.Mh && s.Backends.Count > Scheduling.Maglev.TableSize)
            errors.Add($"{at}: backends: {s.Backends.Count} backends, but scheduler \"mh\" takes at most {Scheduling.Maglev.TableSize} (its table size)");
        if (s.Backends.Count > MaxBackendsPerService)
            errors.Add($"{at}: backends: {s.Backends.Count} backends, more than the {MaxBackendsPerService} a service may have");

        if (s.MasqueradeOutsideCluster && s.Forwarding != Forwarding.Nat)
            errors.Add($"{at}: masqueradeOutsideCluster: applies to forwarding \"nat\" only (\"{Names.Of(s.Forwarding)}\" " +
                (s.Forwarding == Forwarding.Masq ? "masquerades every client)" : "never rewrites the source)"));
        if (s.ExternalTrafficPolicy == TrafficPolicy.Local && s.Forwarding == Forwarding.Masq)
            errors.Add($"{at}: forwarding: \"masq\" replaces the client's address, which externalTrafficPolicy \"local\" is there to keep");

        var seenBackends = new HashSet<(IPAddress, ushort)>();
        for (int i = 0; i < s.Backends.Count; i++)
        {
            var b = s.Backends[i];
            string bat = $"{at}: backends[{i}] ({b})";
            if (s.Address is not null && b.Address.AddressFamily != s.Address.AddressFamily)
                errors.Add($"{bat}: address: \"{b.Address}\" is {Family(b.Address)} but the service address is {Family(s.Address)}");
            if (b.Port == 0)
                errors.Add($"{bat}: port: 0 is not a port (1-65535)");
            if (s.Forwarding is Forwarding.Dr or Forwarding.Tun && b.Port != s.Port)
                errors.Add($"{bat}: port: {b.Port} must equal the service port {s.Port} with forwarding \"{Names.Of(s.Forwarding)}\" (IPVS forwards to the service port)");
            if (!seenBackends.Add((b.Address, b.Port)))
                errors.Add($"{bat}: listed twice");
        }
        return errors;
    }

    private static string Family(IPAddress a) => a.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6";
}
