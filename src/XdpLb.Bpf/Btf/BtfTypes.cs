using System.Runtime.InteropServices;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf.Btf;

/// <summary>Reads types from a libbpf struct btf*.</summary>
internal sealed unsafe class BtfTypes(IntPtr btf)
{
    internal const int KindInt = 1, KindArray = 3, KindStruct = 4, KindUnion = 5, KindEnum = 6,
        KindTypedef = 8, KindVolatile = 9, KindConst = 10, KindRestrict = 11, KindTypeTag = 18, KindEnum64 = 19;

    internal BtfType* Type(uint id)
    {
        BtfType* t = LibBpf.BtfTypeById(btf, id);
        if (t == null)
            throw new BtfLayoutException($"BTF has no type with id {id}");
        return t;
    }

    /// <summary>Follows typedefs and qualifiers to the type that has a layout.</summary>
    internal uint Resolve(uint id)
    {
        for (int depth = 0; depth < 32; depth++)
        {
            BtfType* t = Type(id);
            switch (t->Kind)
            {
                case KindTypedef or KindVolatile or KindConst or KindRestrict or KindTypeTag:
                    id = t->SizeOrType;
                    break;
                default:
                    return id;
            }
        }
        throw new BtfLayoutException($"BTF type {id}: typedef chain too long");
    }

    internal string Name(uint nameOffset) => Marshal.PtrToStringUTF8((IntPtr)LibBpf.BtfNameByOffset(btf, nameOffset)) ?? "";

    internal long Size(uint id)
    {
        BtfType* t = Type(Resolve(id));
        return t->Kind switch
        {
            KindInt or KindStruct or KindUnion or KindEnum or KindEnum64 => t->SizeOrType,
            KindArray => ArrayElementCount(t) * Size(ArrayElementType(t)),
            _ => throw new BtfLayoutException($"BTF type {Name(t->NameOffset)} (kind {t->Kind}) has no size"),
        };
    }

    internal static ReadOnlySpan<BtfMember> Members(BtfType* t) => new(t + 1, t->VLen);

    internal static ReadOnlySpan<BtfEnum> Enumerators(BtfType* t) => new(t + 1, t->VLen);

    // struct btf_array { __u32 type; __u32 index_type; __u32 nelems; } follows the btf_type.
    private static uint ArrayElementType(BtfType* t) => ((uint*)(t + 1))[0];

    private static uint ArrayElementCount(BtfType* t) => ((uint*)(t + 1))[2];

    internal int Find(string name, int kind) => LibBpf.BtfFindByNameKind(btf, name, (uint)kind);
}
