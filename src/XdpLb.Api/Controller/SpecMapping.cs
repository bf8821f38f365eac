using System.Net;
using XdpLb.Api.V1;
using XdpLb.Core.Config;
using XdpLb.Core.Model;
using CoreBackend = XdpLb.Core.Model.Backend;
using CoreService = XdpLb.Core.Model.Service;

namespace XdpLb.Api.Controller;

/// <summary>
/// The API's messages to Core's model and back. A request is read whole: every malformed
/// field is reported (its path and value) before anything is built, so nothing is applied
/// partially; the rules that span fields are ConfigValidator's, as for the config file.
/// </summary>
public static class SpecMapping
{
    /// <summary>The service, or INVALID_ARGUMENT listing every problem.</summary>
    public static CoreService ToService(ServiceSpec? spec, string path = "service")
    {
        if (spec is null)
            throw ApiError.Invalid($"{path}: required");
        var errors = new List<string>();
        var address = Address(spec.Address, $"{path}.address", errors);
        ushort port = Port(spec.Port, $"{path}.port", errors, allowZero: false);
        var protocol = Name(spec.Protocol, Protocol.Tcp, $"{path}.protocol", errors);
        var scheduler = Name(spec.Scheduler, Scheduler.Rr, $"{path}.scheduler", errors);
        var forwarding = Name(spec.Forwarding, Forwarding.Nat, $"{path}.forwarding", errors);
        var flags = spec.Flags.Select((f, i) => Name(f, default(SchedulerFlag), $"{path}.flags[{i}]", errors, required: true)).ToList();
        var backends = new List<CoreBackend>();
        for (int i = 0; i < spec.Backends.Count; i++)
        {
            if (Backend(spec.Backends[i], port, $"{path}.backends[{i}]", errors) is { } backend)
                backends.Add(backend);
        }
        if (errors.Count > 0)
            throw ApiError.Invalid(errors);
        var service = new CoreService
        {
            Name = string.IsNullOrEmpty(spec.Name) ? null : spec.Name,
            Address = address,
            Port = port,
            Protocol = protocol,
            Scheduler = scheduler,
            Flags = flags,
            Persistence = spec.Persistence,
            Forwarding = forwarding,
            SourceRanges = spec.SourceRanges.ToList(),
            Backends = backends,
        };
        var invalid = ConfigValidator.ValidateService(service);
        if (invalid.Count > 0)
            throw ApiError.Invalid(invalid.Select(e => $"{path}: {e}").ToList());
        return service;
    }

    public static ServiceKey ToKey(ServiceRef? reference, string path = "service")
    {
        if (reference is null)
            throw ApiError.Invalid($"{path}: required");
        var errors = new List<string>();
        var address = Address(reference.Address, $"{path}.address", errors);
        ushort port = Port(reference.Port, $"{path}.port", errors, allowZero: false);
        var protocol = Name(reference.Protocol, Protocol.Tcp, $"{path}.protocol", errors);
        if (errors.Count > 0)
            throw ApiError.Invalid(errors);
        return new ServiceKey(address!, port, protocol);
    }

    /// <summary>A backend of <paramref name="service"/> by address and port (0: the service's port).</summary>
    public static (IPAddress Address, ushort Port) ToBackend(BackendRef? reference, CoreService service, string path)
    {
        if (reference is null)
            throw ApiError.Invalid($"{path}: required");
        var errors = new List<string>();
        var address = Address(reference.Address, $"{path}.address", errors);
        ushort port = reference.Port == 0 ? service.Port : Port(reference.Port, $"{path}.port", errors, allowZero: true);
        if (errors.Count > 0)
            throw ApiError.Invalid(errors);
        return (address!, port);
    }

    /// <summary>A backend to add to a service on <paramref name="servicePort"/>, or INVALID_ARGUMENT.</summary>
    public static CoreBackend ToBackend(BackendSpec? spec, ushort servicePort, string path)
    {
        if (spec is null)
            throw ApiError.Invalid($"{path}: required");
        var errors = new List<string>();
        var backend = Backend(spec, servicePort, path, errors);
        if (errors.Count > 0)
            throw ApiError.Invalid(errors);
        return backend!;
    }

    private static CoreBackend? Backend(BackendSpec b, ushort servicePort, string path, List<string> errors)
    {
        var address = Address(b.Address, $"{path}.address", errors);
        ushort port = b.Port == 0 ? servicePort : Port(b.Port, $"{path}.port", errors, allowZero: true);
        uint weight = b.HasWeight ? b.Weight : 1;
        if (weight > ushort.MaxValue)
            errors.Add($"{path}.weight: {weight} is out of range (0-65535)");
        return address is null ? null : new CoreBackend(address, port, (ushort)Math.Min(weight, ushort.MaxValue));
    }

    public static ServiceSpec ToSpec(CoreService s)
    {
        var spec = new ServiceSpec
        {
            Name = s.Name ?? "",
            Address = s.Address?.ToString() ?? "",
            Port = s.Port,
            Protocol = Names.Of(s.Protocol),
            Scheduler = Names.Of(s.Scheduler),
            Persistence = s.Persistence,
            Forwarding = Names.Of(s.Forwarding),
        };
        spec.Flags.AddRange(s.Flags.Select(Names.Of));
        spec.SourceRanges.AddRange(s.SourceRanges);
        spec.Backends.AddRange(s.Backends.Select(b => new BackendSpec { Address = b.Address.ToString(), Port = b.Port, Weight = b.Weight }));
        return spec;
    }

    public static DeclaredService ToApi(DeclaredEntry entry) =>
        new() { Spec = ToSpec(entry.Service), Owner = entry.Owner, Generation = entry.Generation };

    private static IPAddress? Address(string text, string path, List<string> errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            errors.Add($"{path}: required");
            return null;
        }
        // IPAddress.TryParse also takes "10" (0.0.0.10) and "10.1": only the dotted quad and IPv6 are addresses here.
        bool usual = text.Contains(':') || text.Split('.').Length == 4;
        if (usual && IPAddress.TryParse(text, out var address) && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork || address.ScopeId == 0))
            return address;
        errors.Add($"{path}: \"{text}\" is not an IP address");
        return null;
    }

    private static ushort Port(uint port, string path, List<string> errors, bool allowZero)
    {
        if ((port == 0 && !allowZero) || port > ushort.MaxValue)
        {
            errors.Add($"{path}: {port} is not a port (1-65535)");
            return 0;
        }
        return (ushort)port;
    }

    private static T Name<T>(string text, T fallback, string path, List<string> errors, bool required = false) where T : struct, Enum
    {
        if (string.IsNullOrEmpty(text) && !required)
            return fallback;
        if (Names.TryParse<T>(text, out var value))
            return value;
        errors.Add($"{path}: \"{text}\" is not one of {Names.All<T>()}");
        return fallback;
    }
}
