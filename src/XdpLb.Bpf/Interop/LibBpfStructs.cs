using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Interop;

// Option structs begin with their own size, so libbpf accepts these shorter or longer
// layouts as long as every field we set sits at the offset the header gives it.

[StructLayout(LayoutKind.Sequential)]
internal struct BpfObjectOpenOpts
{
    public nuint Size;
    public IntPtr ObjectName;
}

/// <summary>struct bpf_link_create_opts (libbpf 1.1): only sz and flags are used.</summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal struct BpfLinkCreateOpts
{
    [FieldOffset(0)] public nuint Size;
    [FieldOffset(8)] public uint Flags;
}

/// <summary>struct bpf_test_run_opts (libbpf 1.1).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct BpfTestRunOpts
{
    public nuint Size;
    public void* DataIn;
    public void* DataOut;
    public uint DataSizeIn;
    public uint DataSizeOut;
    public void* ContextIn;
    public void* ContextOut;
    public uint ContextSizeIn;
    public uint ContextSizeOut;
    public uint ReturnValue;
    public int Repeat;
    public uint Duration;
    public uint Flags;
    public uint Cpu;
    public uint BatchSize;
}

/// <summary>struct btf_type: name_off, info (vlen | kind &lt;&lt; 24 | kind_flag &lt;&lt; 31), size or type.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BtfType
{
    public uint NameOffset;
    public uint Info;
    public uint SizeOrType;

    public readonly int Kind => (int)((Info >> 24) & 0x1f);
    public readonly int VLen => (int)(Info & 0xffff);
    public readonly bool KindFlag => (Info >> 31) != 0;
}

/// <summary>struct btf_member, following a STRUCT/UNION btf_type.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BtfMember
{
    public uint NameOffset;
    public uint Type;
    public uint Offset;
}

/// <summary>struct btf_enum, following an ENUM btf_type.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BtfEnum
{
    public uint NameOffset;
    public int Value;
}

/// <summary>struct xdp_md as BPF_PROG_TEST_RUN takes it for its context.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XdpMd
{
    public uint Data;
    public uint DataEnd;
    public uint DataMeta;
    public uint IngressIfindex;
    public uint RxQueueIndex;
    public uint EgressIfindex;
}

/// <summary>struct bpf_map_info (uapi): the fields read to check a pinned map's BTF.</summary>
[StructLayout(LayoutKind.Explicit, Size = 88)]
internal struct BpfMapInfo
{
    [FieldOffset(0)] public uint Type;
    [FieldOffset(8)] public uint KeySize;
    [FieldOffset(12)] public uint ValueSize;
    [FieldOffset(16)] public uint MaxEntries;
    [FieldOffset(64)] public uint BtfId;
    [FieldOffset(68)] public uint BtfKeyTypeId;
    [FieldOffset(72)] public uint BtfValueTypeId;
}

/// <summary>struct bpf_map_batch_opts.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BpfMapBatchOpts
{
    public nuint Size;
    public ulong ElemFlags;
    public ulong Flags;
}
