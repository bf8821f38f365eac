using System.Net;
using XdpLb.Core.Model;

namespace XdpLb.Bpf;

/// <summary>
/// Gives each (service, backend address, port) a stable id, the index of its counters in
/// the data path's per-backend arrays, for as long as the backend stays in its service, so
/// weight changes and reorders keep counters and connections. Ids of removed backends are
/// reused oldest first, after their connections have been expired.
/// </summary>
internal sealed class BackendIdAllocator(uint capacity)
{
    private readonly Dictionary<(ServiceKey Service, IPAddress Address, ushort Port), uint> ids = new();
    private readonly Queue<uint> released = new();
    private uint next;

    public int Count => ids.Count;

    public bool TryGet(ServiceKey service, Backend backend, out uint id) => ids.TryGetValue((service, backend.Address, backend.Port), out id);

    /// <summary>
    /// The backend's id; <paramref name="fresh"/> when it was just assigned (its counters must
    /// start at zero), <paramref name="reused"/> when it had belonged to another backend.
    /// </summary>
    public uint Acquire(ServiceKey service, Backend backend, out bool fresh, out bool reused)
    {
        var key = (service, backend.Address, backend.Port);
        fresh = reused = false;
        if (ids.TryGetValue(key, out uint id))
            return id;
        reused = released.Count > 0;
        if (reused)
            id = released.Dequeue();
        else if (next < capacity)
            id = next++;
        else
            throw new InvalidOperationException($"no backend id left for {backend} of service {service}: limits.backends is {capacity}");
        ids[key] = id;
        fresh = true;
        return id;
    }

    public void Release(ServiceKey service, IPAddress address, ushort port)
    {
        if (ids.Remove((service, address, port), out uint id))
            released.Enqueue(id);
    }

    public IEnumerable<(ServiceKey Service, IPAddress Address, ushort Port, uint Id)> All =>
        ids.Select(e => (e.Key.Service, e.Key.Address, e.Key.Port, e.Value));

    public IReadOnlyCollection<uint> Released => released;

    public uint Next => next;

    /// <summary>Takes over the assignments an earlier agent saved.</summary>
    public void Restore(IEnumerable<(ServiceKey Service, IPAddress Address, ushort Port, uint Id)> assigned, IEnumerable<uint> releasedIds, uint nextId)
    {
        ids.Clear();
        released.Clear();
        foreach (var (service, address, port, id) in assigned)
            ids[(service, address, port)] = id;
        foreach (var id in releasedIds)
            released.Enqueue(id);
        next = nextId;
    }
}
