using XdpLb.Api.V1;

namespace XdpLb.Core.Tests.Api;

/// <summary>Requests as a controller would send them.</summary>
internal static class Requests
{
    public static ServiceSpec Spec(string address = "10.96.0.10", uint port = 80, params string[] backends)
    {
        var spec = new ServiceSpec { Address = address, Port = port, Scheduler = "rr" };
        spec.Backends.AddRange(backends.Select(b => new BackendSpec { Address = b, Port = 8080 }));
        return spec;
    }

    public static ApplyServiceRequest Apply(string controller, ServiceSpec spec, ulong? expected = null)
    {
        var request = new ApplyServiceRequest { Controller = controller, Service = spec };
        if (expected is { } generation)
            request.ExpectedGeneration = generation;
        return request;
    }

    public static ServiceRef Ref(string address = "10.96.0.10", uint port = 80, string protocol = "tcp") =>
        new() { Address = address, Port = port, Protocol = protocol };

    public static BackendRef Backend(string address, uint port = 8080) => new() { Address = address, Port = port };

    public static PatchBackendsRequest Patch(string controller, ServiceRef service, params BackendChange[] changes) =>
        new() { Controller = controller, Service = service, Changes = { changes } };

    public static DeleteServiceRequest Delete(string controller, ServiceRef service, ulong? expected = null)
    {
        var request = new DeleteServiceRequest { Controller = controller, Service = service };
        if (expected is { } generation)
            request.ExpectedGeneration = generation;
        return request;
    }
}
