using System.Threading.Channels;
using XdpLb.Api.V1;
using XdpLb.Core.Model;
using XdpLb.Core.Reconcile;
using CoreService = XdpLb.Core.Model.Service;

namespace XdpLb.Api.Controller;

/// <summary>
/// The services declared over the API, with owner and generation, beside those of the agent's
/// source (the config file or Kubernetes: owned by "config" or "kubernetes", read-only here).
/// Every write is checked whole (ownership, expected generation, validity, limits) and
/// persisted before it takes effect; a refused write changes nothing. One key held by two
/// sources is a conflict reported to the second: an API write on a key of the agent's source
/// gets ALREADY_EXISTS, and a service the source adds on a key the API holds is left out.
/// </summary>
public sealed class DeclaredServices
{
    public const string ConfigOwner = "config";
    public const string KubernetesOwner = "kubernetes";

    private readonly object gate = new();
    private readonly DeclaredServicesFile? file;
    private readonly Dictionary<ServiceKey, DeclaredEntry> declared = [];
    private Dictionary<ServiceKey, DeclaredEntry> fromSource = [];
    private readonly List<Channel<ServiceEvent>> watchers = [];

    /// <param name="file">Where they are kept; null: in memory only.</param>
    public DeclaredServices(DeclaredServicesFile? file)
    {
        this.file = file;
        foreach (var entry in file?.Load() ?? [])
            declared[entry.Key] = entry;
    }

    public StoreLimits Limits { get; set; } = StoreLimits.Of(new Limits());

    /// <summary>What the dataplane in use refuses that the validator allows (e.g. sctp on XDP); messages name the field.</summary>
    public Func<CoreService, IReadOnlyList<string>> DataplaneChecks { get; set; } = _ => [];

    /// <summary>After each accepted write: the desired state must be read again.</summary>
    public event Action? Changed;

    public DeclaredService Apply(ApplyServiceRequest request)
    {
        string owner = Controller(request.Controller);
        var service = SpecMapping.ToService(request.Service);
        CheckDataplane(service);
        DeclaredEntry entry;
        lock (gate)
        {
            var key = service.Key!;
            var current = Writable(key, owner, mustExist: false);
            CheckGeneration(key, current, request.HasExpectedGeneration ? request.ExpectedGeneration : null);
            if (current is not null && ServiceComparer.SameContent(current.Service, service))
                return SpecMapping.ToApi(current);
            CheckLimits(current, service);
            entry = new DeclaredEntry(service, owner, (current?.Generation ?? 0) + 1);
            Commit(key, entry, current is null ? ServiceEvent.Types.Type.Added : ServiceEvent.Types.Type.Modified);
        }
        Changed?.Invoke();
        return SpecMapping.ToApi(entry);
    }

    public DeclaredService Patch(PatchBackendsRequest request)
    {
        string owner = Controller(request.Controller);
        var key = SpecMapping.ToKey(request.Service);
        DeclaredEntry entry;
        lock (gate)
        {
            var current = Writable(key, owner, mustExist: true)!;
            CheckGeneration(key, current, request.HasExpectedGeneration ? request.ExpectedGeneration : null);
            var service = BackendPatch.Apply(current.Service, request.Changes);
            CheckDataplane(service);
            if (ServiceComparer.SameContent(service, current.Service))
                return SpecMapping.ToApi(current);
            CheckLimits(current, service);
            entry = current with { Service = service, Generation = current.Generation + 1 };
            Commit(key, entry, ServiceEvent.Types.Type.Modified);
        }
        Changed?.Invoke();
        return SpecMapping.ToApi(entry);
    }

    public void Delete(DeleteServiceRequest request)
    {
        string owner = Controller(request.Controller);
        var key = SpecMapping.ToKey(request.Service);
        lock (gate)
        {
            var current = Writable(key, owner, mustExist: true)!;
            CheckGeneration(key, current, request.HasExpectedGeneration ? request.ExpectedGeneration : null);
            Commit(key, null, ServiceEvent.Types.Type.Deleted, current);
        }
        Changed?.Invoke();
    }

    public DeclaredService Get(ServiceRef reference)
    {
        var key = SpecMapping.ToKey(reference);
        lock (gate)
        {
            var entry = Visible(key) ?? throw ApiError.NotFound($"service {key}: not found");
            return SpecMapping.ToApi(entry);
        }
    }

    /// <summary>Every service, the agent's source's and the API's, of one owner or all, ordered by key.</summary>
    public IReadOnlyList<DeclaredService> List(string? owner = null)
    {
        lock (gate)
            return AllVisible().Where(e => string.IsNullOrEmpty(owner) || e.Owner == owner).Select(SpecMapping.ToApi).ToList();
    }

    /// <summary>The API-declared services, for the desired state.</summary>
    public IReadOnlyList<CoreService> Declared()
    {
        lock (gate)
            return declared.Values.OrderBy(e => e.Key.ToString(), StringComparer.Ordinal).Select(e => e.Service).ToList();
    }

    /// <summary>
    /// The services of the agent's source, as it reads them now. Returns those to serve: a
    /// service on a key the API holds is left out, and named in <paramref name="conflicts"/>.
    /// </summary>
    public IReadOnlyList<CoreService> SetSource(string owner, IReadOnlyList<CoreService> services, out IReadOnlyList<string> conflicts)
    {
        var kept = new List<CoreService>();
        var found = new List<string>();
        lock (gate)
        {
            var next = new Dictionary<ServiceKey, DeclaredEntry>();
            foreach (var service in services)
            {
                // nodePort services have no key of their own: they cannot be addressed over the API.
                if (service.Key is not { } key)
                {
                    kept.Add(service);
                    continue;
                }
                if (declared.TryGetValue(key, out var holder))
                {
                    found.Add($"{service.Label}: the key is already declared over the API by \"{holder.Owner}\"");
                    continue;
                }
                kept.Add(service);
                fromSource.TryGetValue(key, out var before);
                var entry = before is not null && ServiceComparer.SameContent(before.Service, service) && before.Owner == owner
                    ? before
                    : new DeclaredEntry(service, owner, (before?.Generation ?? 0) + 1);
                next[key] = entry;
                if (!ReferenceEquals(entry, before))
                    Publish(before is null ? ServiceEvent.Types.Type.Added : ServiceEvent.Types.Type.Modified, entry);
            }
            foreach (var (key, gone) in fromSource.Where(p => !next.ContainsKey(p.Key)))
                Publish(ServiceEvent.Types.Type.Deleted, gone);
            fromSource = next;
        }
        conflicts = found;
        return kept;
    }

    /// <summary>The services now (as ADDED events) and every change after them, until disposed.</summary>
    public ServiceWatch Watch()
    {
        var channel = Channel.CreateUnbounded<ServiceEvent>(new UnboundedChannelOptions { SingleReader = true });
        lock (gate)
        {
            foreach (var entry in AllVisible())
                channel.Writer.TryWrite(new ServiceEvent { Type = ServiceEvent.Types.Type.Added, Service = SpecMapping.ToApi(entry) });
            watchers.Add(channel);
        }
        return new ServiceWatch(channel.Reader, () =>
        {
            lock (gate)
                watchers.Remove(channel);
            channel.Writer.TryComplete();
        });
    }

    private static string Controller(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw ApiError.Invalid("controller: required (the name of the controller that owns what it declares)");
        if (name is ConfigOwner or KubernetesOwner)
            throw ApiError.Invalid($"controller: \"{name}\" is reserved for the agent's own source");
        if (name.Length > 253 || name.Any(char.IsControl))
            throw ApiError.Invalid($"controller: \"{name}\" is not a name (at most 253 printable characters)");
        return name;
    }

    /// <summary>The key's API entry if <paramref name="owner"/> may write it.</summary>
    private DeclaredEntry? Writable(ServiceKey key, string owner, bool mustExist)
    {
        if (fromSource.TryGetValue(key, out var held))
        {
            if (!mustExist)
                throw ApiError.Exists($"service {key}: already declared by \"{held.Owner}\" (the agent's source); the API cannot declare it too");
            throw ApiError.Denied($"service {key}: owned by \"{held.Owner}\" (the agent's source), read-only over the API");
        }
        declared.TryGetValue(key, out var current);
        if (current is null && mustExist)
            throw ApiError.NotFound($"service {key}: not found");
        if (current is not null && current.Owner != owner)
            throw ApiError.Denied($"service {key}: owned by \"{current.Owner}\", not \"{owner}\"");
        return current;
    }

    private static void CheckGeneration(ServiceKey key, DeclaredEntry? current, ulong? expected)
    {
        ulong actual = current?.Generation ?? 0;
        if (expected is { } wanted && wanted != actual)
            throw ApiError.Stale($"service {key}: expected generation {wanted}, but it is at {actual}" + (current is null ? " (absent)" : ""));
    }

    private void CheckDataplane(CoreService service)
    {
        var errors = DataplaneChecks(service);
        if (errors.Count > 0)
            throw ApiError.Invalid(errors.Select(e => $"service: {e}").ToList());
    }

    private void CheckLimits(DeclaredEntry? current, CoreService next)
    {
        if (next.Backends.Count > Limits.BackendsPerService)
            throw ApiError.Exhausted($"service {next.Key}: {next.Backends.Count} backends, more than the {Limits.BackendsPerService} a service may have");
        long services = fromSource.Count + declared.Count + (current is null ? 1 : 0);
        if (services > Limits.Services)
            throw ApiError.Exhausted($"service {next.Key}: {services} services would exceed limits.services {Limits.Services}");
        long backends = fromSource.Values.Concat(declared.Values).Sum(e => (long)e.Service.Backends.Count)
            - (current?.Service.Backends.Count ?? 0) + next.Backends.Count;
        if (backends > Limits.Backends)
            throw ApiError.Exhausted($"service {next.Key}: {backends} backends in all would exceed limits.backends {Limits.Backends}");
    }

    /// <summary>Persists the store with the change, then makes it; a failed write changes nothing.</summary>
    private void Commit(ServiceKey key, DeclaredEntry? entry, ServiceEvent.Types.Type type, DeclaredEntry? removed = null)
    {
        var next = new Dictionary<ServiceKey, DeclaredEntry>(declared);
        if (entry is null)
            next.Remove(key);
        else
            next[key] = entry;
        try
        {
            file?.Save(next.Values.OrderBy(e => e.Key.ToString(), StringComparer.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ApiError.Unavailable($"service {key}: the change cannot be saved to {file!.Path} ({e.Message}); nothing was changed");
        }
        if (entry is null)
            declared.Remove(key);
        else
            declared[key] = entry;
        Publish(type, entry ?? removed!);
    }

    private void Publish(ServiceEvent.Types.Type type, DeclaredEntry entry)
    {
        var message = new ServiceEvent { Type = type, Service = SpecMapping.ToApi(entry) };
        foreach (var watcher in watchers)
            watcher.Writer.TryWrite(message);
    }

    private DeclaredEntry? Visible(ServiceKey key) =>
        declared.TryGetValue(key, out var entry) ? entry : fromSource.GetValueOrDefault(key);

    private IEnumerable<DeclaredEntry> AllVisible() =>
        declared.Values.Concat(fromSource.Values).OrderBy(e => e.Key.ToString(), StringComparer.Ordinal).ToList();
}
