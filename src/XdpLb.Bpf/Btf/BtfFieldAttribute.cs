namespace XdpLb.Bpf.Btf;

/// <summary>
/// Names the C field a C# field mirrors when the C# name is not simply the PascalCase of
/// it (backend_count -> BackendCount needs no attribute).
/// </summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class BtfFieldAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
