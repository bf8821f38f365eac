namespace XdpLb.Bpf.Btf;

/// <summary>A C# map struct that does not have the layout the BPF object's BTF describes.</summary>
public sealed class BtfLayoutException(string message) : Exception(message);
