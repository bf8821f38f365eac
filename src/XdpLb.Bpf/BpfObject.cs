using System.Runtime.InteropServices;
using XdpLb.Bpf.Btf;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>
/// A BPF object file opened through libbpf. Map sizes may be changed between
/// <see cref="OpenMemory"/> and <see cref="Load"/>; programs and maps are usable after.
/// </summary>
public sealed unsafe class BpfObject : IDisposable
{
    private readonly BpfObjectHandle handle;
    private readonly Dictionary<string, string> pinPaths = new();
    private readonly HashSet<string> adopted = new();
    private readonly Dictionary<string, (uint Key, uint Value)> declaredTypeIds = new();
    private bool loaded;

    private BpfObject(BpfObjectHandle handle, string name)
    {
        this.handle = handle;
        Name = name;
    }

    public string Name { get; }

    internal BpfObjectHandle Handle => handle;

    public static BpfObject OpenMemory(ReadOnlySpan<byte> elf, string name)
    {
        LibBpfLog.Install();
        IntPtr namePtr = Marshal.StringToCoTaskMemUTF8(name);
        try
        {
            var opts = new BpfObjectOpenOpts { Size = (nuint)sizeof(BpfObjectOpenOpts), ObjectName = namePtr };
            IntPtr obj;
            fixed (byte* p = elf)
                obj = LibBpf.ObjectOpenMem(p, (nuint)elf.Length, &opts);
            if (obj == IntPtr.Zero)
                throw new BpfException($"opening BPF object {name}", Marshal.GetLastPInvokeError(), LibBpfLog.Drain());
            return new BpfObject(new BpfObjectHandle(obj), name);
        }
        finally
        {
            Marshal.FreeCoTaskMem(namePtr);
        }
    }

    public void SetMaxEntries(string mapName, uint maxEntries)
    {
        if (loaded)
            throw new InvalidOperationException($"map {mapName}: max_entries can only change before the object is loaded");
        BpfException.Check(LibBpf.MapSetMaxEntries(FindMap(mapName), maxEntries), $"setting max_entries of map {mapName} to {maxEntries}");
    }

    /// <summary>
    /// Pins a map at a path on bpffs when the object loads, or, when a map is pinned there
    /// already, makes the object use that map (libbpf refuses one of another type, size or
    /// capacity); its BTF layout is then checked too.
    /// </summary>
    public void SetPinPath(string mapName, string path)
    {
        if (loaded)
            throw new InvalidOperationException($"map {mapName}: the pin path can only be set before the object is loaded");
        BpfException.Check(LibBpf.MapSetPinPath(FindMap(mapName), path), $"setting the pin path of map {mapName} to {path}");
        pinPaths[mapName] = path;
    }

    /// <summary>
    /// Makes this object use <paramref name="owner"/>'s maps wherever both define a map of
    /// the same name, so that two objects' programs share state (libbpf refuses a map of
    /// another type or size). Returns the names shared.
    /// </summary>
    public IReadOnlyList<string> ShareMapsOf(BpfObject owner)
    {
        if (loaded)
            throw new InvalidOperationException($"{Name}: maps can only be shared before the object is loaded");
        owner.RequireLoaded();
        var shared = new List<string>();
        for (IntPtr map = LibBpf.ObjectNextMap(handle, IntPtr.Zero); map != IntPtr.Zero; map = LibBpf.ObjectNextMap(handle, map))
        {
            if (LibBpf.MapIsInternal(map))
                continue;
            string name = Marshal.PtrToStringUTF8((IntPtr)LibBpf.MapName(map)) ?? "";
            IntPtr theirs = LibBpf.ObjectFindMapByName(owner.handle, name);
            if (theirs == IntPtr.Zero)
                continue;
            BpfException.Check(LibBpf.MapReuseFd(map, LibBpf.MapFd(theirs)), $"sharing map {name} of {owner.Name} with {Name}");
            shared.Add(name);
        }
        return shared;
    }

    /// <summary>Pins each named map under DIR/maps (see <see cref="SetPinPath"/>): the state a restart adopts.</summary>
    public void PinMapsUnder(string pinDirectory, IEnumerable<string> mapNames)
    {
        string maps = Path.Combine(pinDirectory, "maps");
        Directory.CreateDirectory(maps);
        foreach (var name in mapNames)
            SetPinPath(name, Path.Combine(maps, name));
    }

    /// <summary>
    /// Loads; a refusal while maps were adopted from <paramref name="pinDirectory"/> is told
    /// as theirs (another layout or size pinned there), not as a kernel problem.
    /// </summary>
    public void LoadAdopting(string? pinDirectory)
    {
        try
        {
            Load();
        }
        catch (BpfException e) when (pinDirectory is not null && adopted.Count > 0)
        {
            throw new PinnedMapsMismatchException(pinDirectory, e);
        }
    }

    /// <summary>An object file embedded as a resource of <paramref name="assembly"/> (the agent carries its BPF objects inside).</summary>
    public static byte[] Embedded(System.Reflection.Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource} is not embedded in {assembly.GetName().Name}: build with make");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>A map's key and value type ids in this object's own BTF.</summary>
    internal (uint Key, uint Value) DeclaredTypeIds(string mapName) =>
        declaredTypeIds.TryGetValue(mapName, out var ids) ? ids : throw new BpfException($"finding map {mapName} in {Name}", 2 /* ENOENT */);

    /// <summary>The maps that were already pinned when the object loaded, and are now used by it.</summary>
    public IReadOnlySet<string> AdoptedMaps => adopted;

    public void Load()
    {
        foreach (var (name, path) in pinPaths)
            if (File.Exists(path))
                adopted.Add(name);
        // Read before loading: a map adopted from a pin takes the type ids of the BTF it was
        // created with, which number the types of another build's object.
        for (IntPtr map = LibBpf.ObjectNextMap(handle, IntPtr.Zero); map != IntPtr.Zero; map = LibBpf.ObjectNextMap(handle, map))
            declaredTypeIds[Marshal.PtrToStringUTF8((IntPtr)LibBpf.MapName(map)) ?? ""] = (LibBpf.MapBtfKeyTypeId(map), LibBpf.MapBtfValueTypeId(map));
        BpfException.Check(LibBpf.ObjectLoad(handle), $"loading BPF object {Name} into the kernel");
        loaded = true;
    }

    public BpfProgram Program(string name)
    {
        RequireLoaded();
        IntPtr prog = LibBpf.ObjectFindProgramByName(handle, name);
        if (prog == IntPtr.Zero)
            throw new BpfException($"finding program {name} in {Name}", 2 /* ENOENT */);
        return new BpfProgram(name, new BpfFdHandle(LibBpf.ProgramFd(prog), ownsHandle: false), this);
    }

    /// <summary>A hash or array map whose key and value layouts are checked against BTF.</summary>
    public BpfMap<TKey, TValue> Map<TKey, TValue>(string name)
        where TKey : unmanaged where TValue : unmanaged
    {
        var info = VerifiedMap(name, typeof(TKey), typeof(TValue));
        return new BpfMap<TKey, TValue>(name, info.Fd, info.MaxEntries);
    }

    /// <summary>A per-CPU array map; reads return one value per possible CPU.</summary>
    public PerCpuArrayMap<TValue> PerCpuArray<TValue>(string name) where TValue : unmanaged
    {
        var info = VerifiedMap(name, typeof(uint), typeof(TValue));
        return new PerCpuArrayMap<TValue>(name, info.Fd, info.MaxEntries);
    }

    /// <summary>A BPF_F_MMAPABLE array map, mapped into this process.</summary>
    public MmapArrayMap<TValue> MmapArray<TValue>(string name) where TValue : unmanaged
    {
        var info = VerifiedMap(name, typeof(uint), typeof(TValue));
        return new MmapArrayMap<TValue>(name, info.Fd, info.MaxEntries);
    }

    internal IntPtr Btf
    {
        get
        {
            IntPtr btf = LibBpf.ObjectBtf(handle);
            if (btf == IntPtr.Zero)
                throw new BpfException($"reading BTF of {Name} (build it with clang -g)", 61 /* ENODATA */);
            return btf;
        }
    }

    // A map whose key and value types match the C# ones, as the object's BTF describes them
    // and, for a map adopted from a pin, as the BTF it was created with does.
    private (IntPtr Map, BpfFdHandle Fd, uint MaxEntries) VerifiedMap(string name, Type keyType, Type valueType)
    {
        var info = MapInfo(name);
        BtfLayout.Verify(this, name, info.Map, keyType, valueType);
        if (adopted.Contains(name))
            BtfLayout.VerifyKernelMap(info.Fd, name, keyType, valueType);
        return info;
    }

    private (IntPtr Map, BpfFdHandle Fd, uint MaxEntries) MapInfo(string name)
    {
        RequireLoaded();
        IntPtr map = FindMap(name);
        return (map, new BpfFdHandle(LibBpf.MapFd(map), ownsHandle: false), LibBpf.MapMaxEntries(map));
    }

    private IntPtr FindMap(string name)
    {
        IntPtr map = LibBpf.ObjectFindMapByName(handle, name);
        if (map == IntPtr.Zero)
            throw new BpfException($"finding map {name} in {Name}", 2 /* ENOENT */);
        return map;
    }

    private void RequireLoaded()
    {
        ObjectDisposedException.ThrowIf(handle.IsClosed, this);
        if (!loaded)
            throw new InvalidOperationException($"BPF object {Name} is not loaded yet");
    }

    public void Dispose() => handle.Dispose();
}
