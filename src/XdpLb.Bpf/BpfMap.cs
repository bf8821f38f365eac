using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

public enum MapUpdate : ulong
{
    Any = 0,
    NoExist = 1,
    Exist = 2,
}

/// <summary>Typed access to a hash or array map with blittable key and value structs.</summary>
public sealed unsafe class BpfMap<TKey, TValue>
    where TKey : unmanaged where TValue : unmanaged
{
    private const int ENOENT = 2;

    internal BpfMap(string name, BpfFdHandle fd, uint maxEntries)
    {
        Name = name;
        Fd = fd;
        MaxEntries = maxEntries;
    }

    public string Name { get; }
    public BpfFdHandle Fd { get; }
    public uint MaxEntries { get; }

    public void Update(in TKey key, in TValue value, MapUpdate flags = MapUpdate.Any)
    {
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
            BpfException.Check(LibBpf.MapUpdateElem(Fd.Fd, k, v, (ulong)flags), $"updating map {Name}");
    }

    /// <summary>Writes many entries in one syscall (BPF_MAP_UPDATE_BATCH).</summary>
    public void UpdateBatch(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values)
    {
        if (keys.Length != values.Length)
            throw new ArgumentException($"{keys.Length} keys but {values.Length} values", nameof(values));
        if (keys.IsEmpty)
            return;
        uint count = (uint)keys.Length;
        var opts = new BpfMapBatchOpts { Size = (nuint)sizeof(BpfMapBatchOpts) };
        fixed (TKey* k = keys)
        fixed (TValue* v = values)
            BpfException.Check(LibBpf.MapUpdateBatch(Fd.Fd, k, v, &count, &opts), $"updating map {Name} in a batch of {keys.Length}");
    }

    public bool TryLookup(in TKey key, out TValue value)
    {
        TValue result;
        int rc;
        fixed (TKey* k = &key)
            rc = LibBpf.MapLookupElem(Fd.Fd, k, &result);
        if (rc == -ENOENT)
        {
            value = default;
            return false;
        }
        BpfException.Check(rc, $"looking up map {Name}");
        value = result;
        return true;
    }

    /// <summary>Deletes a key; returns false when it was not there.</summary>
    public bool Delete(in TKey key)
    {
        int rc;
        fixed (TKey* k = &key)
            rc = LibBpf.MapDeleteElem(Fd.Fd, k);
        if (rc == -ENOENT)
            return false;
        BpfException.Check(rc, $"deleting from map {Name}");
        return true;
    }

    /// <summary>Deletes every entry.</summary>
    public void Clear()
    {
        foreach (var key in Keys())
            Delete(key);
    }

    /// <summary>
    /// Every key, collected first: deleting while walking a hash map with get_next_key
    /// can restart the walk from the beginning.
    /// </summary>
    public List<TKey> Keys()
    {
        var keys = new List<TKey>();
        TKey current = default, next;
        bool first = true;
        while (true)
        {
            int rc = first ? LibBpf.MapGetNextKey(Fd.Fd, null, &next) : LibBpf.MapGetNextKey(Fd.Fd, &current, &next);
            if (rc == -ENOENT)
                return keys;
            BpfException.Check(rc, $"iterating map {Name}");
            keys.Add(next);
            current = next;
            first = false;
        }
    }

    public IEnumerable<KeyValuePair<TKey, TValue>> Entries()
    {
        foreach (var key in Keys())
            if (TryLookup(key, out var value))
                yield return new(key, value);
    }
}
