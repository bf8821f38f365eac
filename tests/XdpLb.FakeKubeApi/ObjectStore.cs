using k8s;
using k8s.Models;

namespace XdpLb.FakeKubeApi;

/// <summary>
/// The objects, one global resourceVersion counter (as etcd's revision), the log of changes since
/// the last compaction, and the open watches. One lock orders everything, so a watch registered
/// at version R sees exactly the changes after R, each once, in order.
/// </summary>
internal sealed class ObjectStore
{
    // Real clusters are never at a tiny version; starting high keeps "0" clearly special.
    private const long FirstResourceVersion = 1000;

    private readonly Lock gate = new();
    private readonly Dictionary<ObjectKey, StoredObject> objects = [];
    private readonly List<Change> log = [];
    private readonly List<WatchSubscription> watches = [];
    private long current = FirstResourceVersion;
    private long compactedBelow;

    public long CurrentResourceVersion
    {
        get { lock (gate) return current; }
    }

    public long CompactedBelow
    {
        get { lock (gate) return compactedBelow; }
    }

    public int OpenWatches
    {
        get { lock (gate) return watches.Count; }
    }

    public long Apply(IKubernetesObject<V1ObjectMeta> obj)
    {
        var type = ResourceType.ForClrType(obj.GetType());
        lock (gate)
        {
            long rv = current + 1;
            string ns = type.Namespaced ? (obj.Metadata?.NamespaceProperty is { Length: > 0 } given ? given : "default") : "";
            objects.TryGetValue(new ObjectKey(type, ns, obj.Metadata?.Name ?? ""), out var previous);
            var stored = ObjectJson.Stamp(type, obj, rv, previous);
            current = rv;
            objects[stored.Key] = stored;
            Publish(new Change(rv, previous is null ? ChangeType.Added : ChangeType.Modified, previous, stored));
            return rv;
        }
    }

    /// <exception cref="KeyNotFoundException">no such object</exception>
    public long Delete(ResourceType type, string? ns, string name)
    {
        var key = new ObjectKey(type, type.Namespaced ? (string.IsNullOrEmpty(ns) ? "default" : ns) : "", name);
        lock (gate)
        {
            if (!objects.Remove(key, out var previous))
                throw new KeyNotFoundException($"no {type.Kind} {key.Namespace}/{name}");
            long rv = ++current;
            Publish(new Change(rv, ChangeType.Deleted, previous, ObjectJson.WithResourceVersion(previous, rv)));
            return rv;
        }
    }

    /// <summary>The selected objects sorted by namespace then name, and the version they are current at.</summary>
    public (long ResourceVersion, IReadOnlyList<StoredObject> Items) List(Func<StoredObject, bool> selects)
    {
        lock (gate)
        {
            var items = objects.Values.Where(selects)
                .OrderBy(o => o.Namespace, StringComparer.Ordinal)
                .ThenBy(o => o.Name, StringComparer.Ordinal)
                .ToList();
            return (current, items);
        }
    }

    public StoredObject? Get(ResourceType type, string ns, string name)
    {
        lock (gate)
            return objects.GetValueOrDefault(new ObjectKey(type, ns, name));
    }

    /// <summary>
    /// Registers a watch from <paramref name="fromVersion"/> (null: from the current state, with a
    /// synthetic ADDED per object) and queues what it missed. Returns false, registering nothing,
    /// when that version has been compacted away.
    /// </summary>
    public bool StartWatch(WatchSubscription watch, long? fromVersion)
    {
        lock (gate)
        {
            if (fromVersion is { } from)
            {
                if (from < compactedBelow)
                    return false;
                watch.LastResourceVersion = from;
                foreach (var change in log.Where(c => c.ResourceVersion > from))
                    watch.Offer(change);
            }
            else
            {
                watch.LastResourceVersion = current;
                foreach (var obj in objects.Values
                             .OrderBy(o => o.Namespace, StringComparer.Ordinal)
                             .ThenBy(o => o.Name, StringComparer.Ordinal))
                    watch.OfferSynthetic(obj);
            }
            watches.Add(watch);
            return true;
        }
    }

    public void StopWatch(WatchSubscription watch)
    {
        lock (gate)
            watches.Remove(watch);
    }

    /// <summary>
    /// Forgets every version before the current one, as etcd compaction does; open watches get
    /// an ERROR with a 410 Status and end.
    /// </summary>
    public void Compact()
    {
        lock (gate)
        {
            compactedBelow = current;
            log.Clear();
            foreach (var watch in watches)
                watch.Expire(ApiStatus.TooOld(watch.LastResourceVersion, compactedBelow));
            watches.Clear();
        }
    }

    public void SendBookmarks()
    {
        lock (gate)
            foreach (var watch in watches)
                watch.OfferBookmark(current);
    }

    public void SendRaw(string line)
    {
        lock (gate)
            foreach (var watch in watches)
                watch.SendRaw(line);
    }

    public void DropWatches()
    {
        lock (gate)
        {
            foreach (var watch in watches)
                watch.Drop();
            watches.Clear();
        }
    }

    private void Publish(Change change)
    {
        log.Add(change);
        foreach (var watch in watches)
            watch.Offer(change);
    }
}
