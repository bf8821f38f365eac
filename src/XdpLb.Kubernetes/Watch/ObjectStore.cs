using k8s;
using k8s.Models;

namespace XdpLb.Kubernetes.Watch;

/// <summary>
/// The objects of one resource as the last list and the watch events since have left them,
/// by namespace/name. Every change calls <c>changed</c> with the object (old or new) it touched.
/// </summary>
public sealed class ObjectStore<T>(Action<T?> changed) where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Dictionary<string, T> objects = new();
    private readonly object gate = new();

    public int Count
    {
        get
        {
            lock (gate)
                return objects.Count;
        }
    }

    public IReadOnlyList<T> Snapshot()
    {
        lock (gate)
            return objects.Values.ToList();
    }

    public T? Get(string? ns, string name)
    {
        lock (gate)
            return objects.GetValueOrDefault(Key(ns, name));
    }

    /// <summary>A re-list: what the list does not hold is gone, as if deleted.</summary>
    public void Replace(IEnumerable<T> items)
    {
        lock (gate)
        {
            objects.Clear();
            foreach (var item in items)
                objects[Key(item)] = item;
        }
        changed(null);
    }

    public void Upsert(T item)
    {
        lock (gate)
            objects[Key(item)] = item;
        changed(item);
    }

    public void Remove(T item)
    {
        lock (gate)
            objects.Remove(Key(item));
        changed(item);
    }

    private static string Key(T item) => Key(item.Namespace(), item.Name());
    private static string Key(string? ns, string name) => $"{ns}/{name}";
}
