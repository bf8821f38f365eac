using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf.Btf;

/// <summary>
/// Checks that C# map structs have exactly the sizes and field offsets that the BPF
/// object's BTF gives their C twins, so a header change cannot silently corrupt maps.
/// </summary>
internal static unsafe class BtfLayout
{
    internal static void Verify(BpfObject obj, string mapName, IntPtr map, Type keyType, Type valueType)
    {
        var (keyId, valueId) = obj.DeclaredTypeIds(mapName);
        VerifyTypes(obj.Btf, mapName, LibBpf.MapKeySize(map), LibBpf.MapValueSize(map), keyId, valueId, keyType, valueType);
    }

    /// <summary>
    /// Checks a map as the kernel holds it (e.g. pinned by an earlier version of the agent)
    /// against the C# structs, through the BTF the map was created with.
    /// </summary>
    internal static void VerifyKernelMap(BpfFdHandle map, string mapName, Type keyType, Type valueType)
    {
        var info = default(BpfMapInfo);
        uint length = (uint)sizeof(BpfMapInfo);
        BpfException.Check(LibBpf.ObjGetInfoByFd(map, &info, &length), $"reading the info of map {mapName}");
        if (info.BtfId == 0)
            throw new BtfLayoutException($"map '{mapName}' in the kernel has no BTF: it was not created by xdplb");
        IntPtr btf = LibBpf.BtfLoadFromKernelById(info.BtfId);
        if (btf == IntPtr.Zero)
            throw new BpfException($"loading the BTF of map {mapName}", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        try
        {
            VerifyTypes(btf, mapName, info.KeySize, info.ValueSize, info.BtfKeyTypeId, info.BtfValueTypeId, keyType, valueType);
        }
        finally
        {
            LibBpf.BtfFree(btf);
        }
    }

    private static void VerifyTypes(IntPtr btfPointer, string mapName, uint keySize, uint valueSize, uint keyId, uint valueId,
        Type keyType, Type valueType)
    {
        var btf = new BtfTypes(btfPointer);
        CheckSize(mapName, "key", keySize, keyType);
        CheckSize(mapName, "value", valueSize, valueType);
        if (keyId == 0 || valueId == 0)
            throw new BtfLayoutException($"map '{mapName}' has no BTF key/value types: build the object with clang -g and BTF-style map definitions");
        CheckType(btf, $"map '{mapName}' key", keyId, keyType);
        CheckType(btf, $"map '{mapName}' value", valueId, valueType);
    }

    /// <summary>Checks a C# struct that is no map's key or value (a program's argument) against the C struct of that name.</summary>
    internal static void VerifyStruct<T>(BpfObject obj, string cName) where T : unmanaged
    {
        var btf = new BtfTypes(obj.Btf);
        int id = btf.Find(cName, BtfTypes.KindStruct);
        if (id <= 0)
            throw new BtfLayoutException($"BTF has no struct {cName}");
        CheckType(btf, $"struct '{cName}'", (uint)id, typeof(T));
    }

    /// <summary>Checks that a C# enum lists the C enum's names (PascalCase, prefix dropped) with its values.</summary>
    internal static void VerifyEnum<TEnum>(BpfObject obj, string cName, string prefix) where TEnum : struct, Enum
    {
        var btf = new BtfTypes(obj.Btf);
        int id = btf.Find(cName, BtfTypes.KindEnum);
        if (id <= 0)
            throw new BtfLayoutException($"BTF has no enum {cName}");
        var cNames = new Dictionary<string, long>();
        foreach (var e in BtfTypes.Enumerators(btf.Type((uint)id)))
            cNames[BtfNames.PascalCase(btf.Name(e.NameOffset).Substring(prefix.Length))] = e.Value;
        var csNames = Enum.GetValues<TEnum>().ToDictionary(v => v.ToString(), v => Convert.ToInt64(v));
        foreach (var (name, value) in cNames)
        {
            if (!csNames.TryGetValue(name, out long csValue))
                throw new BtfLayoutException($"C# enum {typeof(TEnum).FullName} lacks {name} = {value} of enum {cName}");
            if (csValue != value)
                throw new BtfLayoutException($"C# enum {typeof(TEnum).FullName}.{name} is {csValue}, enum {cName} says {value}");
        }
        // A [Flags] enum's None is the absence of every bit, which C has no name for.
        bool flags = typeof(TEnum).IsDefined(typeof(FlagsAttribute), false);
        foreach (var name in csNames.Keys.Except(cNames.Keys).Where(n => !(flags && csNames[n] == 0)))
            throw new BtfLayoutException($"C# enum {typeof(TEnum).FullName}.{name} has no counterpart in enum {cName}");
    }

    private static void CheckSize(string mapName, string part, uint mapSize, Type type)
    {
        int size = SizeOf(type);
        if (size != mapSize)
            throw new BtfLayoutException($"map '{mapName}' {part}: C# type {type.FullName} is {size} bytes, the map's {part} is {mapSize} bytes");
    }

    private static void CheckType(BtfTypes btf, string where, uint id, Type type)
    {
        uint resolved = btf.Resolve(id);
        BtfType* t = btf.Type(resolved);
        string cName = btf.Name(t->NameOffset);
        long cSize = btf.Size(resolved);
        int csSize = SizeOf(type);
        if (cSize != csSize)
            throw new BtfLayoutException($"{where}: C# type {type.FullName} is {csSize} bytes, BTF type '{cName}' is {cSize} bytes");

        if (t->Kind is BtfTypes.KindInt or BtfTypes.KindEnum or BtfTypes.KindEnum64)
        {
            if (!type.IsPrimitive && !type.IsEnum)
                throw new BtfLayoutException($"{where}: BTF type '{cName}' is a scalar, C# type {type.FullName} is not");
            return;
        }
        if (t->Kind == BtfTypes.KindArray)
        {
            if (type.GetCustomAttribute<InlineArrayAttribute>() is null)
                throw new BtfLayoutException($"{where}: BTF type is an array, C# type {type.FullName} is not an [InlineArray]");
            return;
        }
        if (t->Kind != BtfTypes.KindStruct)
            throw new BtfLayoutException($"{where}: BTF type '{cName}' (kind {t->Kind}) is not supported for C# type {type.FullName}");
        if (type.IsPrimitive || type.IsEnum)
            throw new BtfLayoutException($"{where}: BTF type is struct '{cName}', C# type {type.FullName} is a scalar");

        var csFields = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .ToDictionary(f => f.GetCustomAttribute<BtfFieldAttribute>()?.Name ?? BtfNames.SnakeCase(f.Name));
        var seen = new HashSet<string>();
        foreach (var member in BtfTypes.Members(t))
        {
            string name = btf.Name(member.NameOffset);
            string fieldWhere = $"{where}: struct '{cName}' field '{name}'";
            if (t->KindFlag && (member.Offset >> 24) != 0)
                throw new BtfLayoutException($"{fieldWhere} is a bitfield, which map structs must not use");
            long cOffset = (member.Offset & 0xffffff) / 8;
            if (!csFields.TryGetValue(name, out var field))
                throw new BtfLayoutException($"{fieldWhere} at offset {cOffset} has no field in C# struct {type.FullName}");
            seen.Add(name);
            long csOffset = Marshal.OffsetOf(type, field.Name).ToInt64();
            if (csOffset != cOffset)
                throw new BtfLayoutException($"{fieldWhere} is at offset {cOffset}, C# struct {type.FullName} field {field.Name} is at offset {csOffset}");
            CheckType(btf, $"{where}: C# struct {type.FullName} field {field.Name} ('{name}')", member.Type, field.FieldType);
        }
        foreach (var extra in csFields.Keys.Except(seen))
            throw new BtfLayoutException($"{where}: C# struct {type.FullName} field {csFields[extra].Name} has no counterpart in struct '{cName}'");
    }

    private static int SizeOf(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
}
