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
            BpfException.Check(LibBpf.MapUpdateElem(Fd, k, v, (ulong)flags), $"updating map {Name}");
    }

    /// <summary>Update that reports EEXIST (NoExist) or ENOENT (Exist) as false instead of throwing.</summary>
    public bool TryUpdate(in TKey key, in TValue value, MapUpdate flags)
    {
        int rc;
        fixed (TKey* k = &key)
        fixed (TValue* v = &value)
            rc = LibBpf.MapUpdateElem(Fd, k, v, (ulong)flags);
        if (rc is -17 or -2)
            return false;
        BpfException.Check(rc, $"updating map {Name}");
        return true;
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
            BpfException.Check(LibBpf.MapUpdateBatch(Fd, k, v, &count, &opts), $"updating map {Name} in a batch of {keys.Length}");
    }

    public bool TryLookup(in TKey key, out TValue value)
    {
        TValue result;
        int rc;
        fixed (TKey* k = &key)
            rc = LibBpf.MapLookupElem(Fd, k, &result);
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
            rc = LibBpf.MapDeleteElem(Fd, k);
        if (rc == -ENOENT)
            return false;
        BpfException.Check(rc, $"deleting from map {Name}");
        return true;
    }

    public delegate void BatchAction(ReadOnlySpan<TKey> keys, ReadOnlySpan<TValue> values);

    /// <summary>
    /// Reads every entry in batches (BPF_MAP_LOOKUP_BATCH): a few syscalls for a million
    /// entries instead of two per entry. Entries added or removed meanwhile may or may not
    /// be seen, as with any walk of a live map.
    /// </summary>
    public void ForEachBatch(BatchAction action, int batchSize = 4096)
    {
        var keys = new TKey[batchSize];
        var values = new TValue[batchSize];
        ulong inBatch = 0, outBatch = 0; // hash maps use a bucket index, arrays an element index
        bool first = true;
        var opts = new BpfMapBatchOpts { Size = (nuint)sizeof(BpfMapBatchOpts) };
        while (true)
        {
            uint count = (uint)batchSize;
            int rc;
            fixed (TKey* k = keys)
            fixed (TValue* v = values)
                rc = LibBpf.MapLookupBatch(Fd, first ? null : &inBatch, &outBatch, k, v, &count, &opts);
            if (rc < 0 && rc != -ENOENT)
                BpfException.Check(rc, $"reading map {Name} in batches");
            if (count > 0)
                action(keys.AsSpan(0, (int)count), values.AsSpan(0, (int)count));
            if (rc == -ENOENT)
                return;
            inBatch = outBatch;
            first = false;
        }
    }

    /// <summary>Every entry, read in batches; for maps only the agent writes, so the copy is exact.</summary>
    /// <param name="expected">About how many entries there are, to size the dictionary once.</param>
    public Dictionary<TKey, TValue> ReadAll(int expected = 0)
    {
        var entries = new Dictionary<TKey, TValue>(expected);
        ForEachBatch((keys, values) =>
        {
            for (int i = 0; i < keys.Length; i++)
                entries[keys[i]] = values[i];
        });
        return entries;
    }

    /// <summary>The number of entries, counted in batches.</summary>
    public int Count()
    {
        int n = 0;
        ForEachBatch((keys, _) => n += keys.Length);
        return n;
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
            int rc = first ? LibBpf.MapGetNextKey(Fd, null, &next) : LibBpf.MapGetNextKey(Fd, &current, &next);
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
