using Google.Protobuf.Collections;
using XdpLb.Api.V1;
using XdpLb.Core.Config;
using CoreBackend = XdpLb.Core.Model.Backend;
using CoreService = XdpLb.Core.Model.Service;

namespace XdpLb.Api.Controller;

/// <summary>
/// PatchBackends' changes applied in order to a copy of the service: the result is
/// validated whole, and a change that cannot apply refuses the patch.
/// </summary>
internal static class BackendPatch
{
    public static CoreService Apply(CoreService service, RepeatedField<BackendChange> changes)
    {
        if (changes.Count == 0)
            throw ApiError.Invalid("changes: empty (add, remove, set_weight or drain)");
        var backends = service.Backends.ToList();
        for (int i = 0; i < changes.Count; i++)
        {
            string at = $"changes[{i}]";
            var change = changes[i];
            switch (change.ChangeCase)
            {
                case BackendChange.ChangeOneofCase.Add:
                    var added = SpecMapping.ToBackend(change.Add, service.Port, $"{at}.add");
                    if (Find(backends, added.Address, added.Port) >= 0)
                        throw ApiError.Exists($"{at}.add: backend {added} is already a backend of service {service.Key}");
                    backends.Add(added);
                    break;
                case BackendChange.ChangeOneofCase.Remove:
                    backends.RemoveAt(Existing(backends, change.Remove, service, $"{at}.remove"));
                    break;
                case BackendChange.ChangeOneofCase.SetWeight:
                    if (change.SetWeight.Weight > ushort.MaxValue)
                        throw ApiError.Invalid($"{at}.set_weight.weight: {change.SetWeight.Weight} is out of range (0-65535)");
                    int w = Existing(backends, change.SetWeight.Backend, service, $"{at}.set_weight.backend");
                    backends[w] = backends[w] with { Weight = (ushort)change.SetWeight.Weight };
                    break;
                case BackendChange.ChangeOneofCase.Drain:
                    int d = Existing(backends, change.Drain, service, $"{at}.drain");
                    backends[d] = backends[d] with { Weight = 0 };
                    break;
                default:
                    throw ApiError.Invalid($"{at}: empty (add, remove, set_weight or drain)");
            }
        }
        var patched = service with { Backends = backends };
        var invalid = ConfigValidator.ValidateService(patched);
        if (invalid.Count > 0)
            throw ApiError.Invalid(invalid.Select(e => $"service: {e}").ToList());
        return patched;
    }

    private static int Existing(List<CoreBackend> backends, BackendRef? reference, CoreService service, string path)
    {
        var (address, port) = SpecMapping.ToBackend(reference, service, path);
        int index = Find(backends, address, port);
        if (index < 0)
            throw ApiError.NotFound($"{path}: {new CoreBackend(address, port)} is not a backend of service {service.Key}");
        return index;
    }

    private static int Find(List<CoreBackend> backends, System.Net.IPAddress address, ushort port) =>
        backends.FindIndex(b => b.Address.Equals(address) && b.Port == port);
}
