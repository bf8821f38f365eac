namespace XdpLb.FakeKubeApi;

/// <summary>
/// One version of an object as the store keeps it: its serialized JSON (already carrying
/// apiVersion, kind and its resourceVersion) and what selectors look at.
/// </summary>
internal sealed record StoredObject(
    ResourceType Type,
    string Namespace,
    string Name,
    IReadOnlyDictionary<string, string> Labels,
    long ResourceVersion,
    string Json)
{
    public ObjectKey Key => new(Type, Namespace, Name);
}

/// <summary>Identity of an object; cluster-scoped objects have an empty namespace.</summary>
internal readonly record struct ObjectKey(ResourceType Type, string Namespace, string Name);

internal enum ChangeType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>
/// One entry of the event log. <see cref="Previous"/> is the object before the change (null for
/// an addition) so a watch with a selector can tell an object that moved in or out of it.
/// For a deletion <see cref="Current"/> is the last state stamped with the deletion's version.
/// </summary>
internal sealed record Change(long ResourceVersion, ChangeType Type, StoredObject? Previous, StoredObject Current);
