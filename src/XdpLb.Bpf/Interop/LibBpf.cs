using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Interop;

/// <summary>
/// The subset of libbpf.so.1 (libbpf 1.x) the agent uses. Since 1.0, libbpf returns
/// -errno from int functions and sets errno for functions that return pointers. File
/// descriptors the agent owns go in as <see cref="BpfFdHandle"/> (see <see cref="BpfFdMarshaller"/>);
/// those libbpf owns (bpf_map__fd) and those it returns stay plain ints.
/// </summary>
internal static unsafe partial class LibBpf
{
    private const string Library = "libbpf.so.1";

    [LibraryImport(Library, EntryPoint = "bpf_object__open_mem", SetLastError = true)]
    internal static partial IntPtr ObjectOpenMem(byte* buffer, nuint size, BpfObjectOpenOpts* opts);

    [LibraryImport(Library, EntryPoint = "bpf_object__load")]
    internal static partial int ObjectLoad(BpfObjectHandle obj);

    [LibraryImport(Library, EntryPoint = "bpf_object__close")]
    internal static partial void ObjectClose(IntPtr obj);

    [LibraryImport(Library, EntryPoint = "bpf_object__find_program_by_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr ObjectFindProgramByName(BpfObjectHandle obj, string name);

    [LibraryImport(Library, EntryPoint = "bpf_object__find_map_by_name", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial IntPtr ObjectFindMapByName(BpfObjectHandle obj, string name);

    [LibraryImport(Library, EntryPoint = "bpf_object__btf")]
    internal static partial IntPtr ObjectBtf(BpfObjectHandle obj);

    [LibraryImport(Library, EntryPoint = "bpf_program__fd")]
    internal static partial int ProgramFd(IntPtr prog);

    [LibraryImport(Library, EntryPoint = "bpf_map__fd")]
    internal static partial int MapFd(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__set_max_entries")]
    internal static partial int MapSetMaxEntries(IntPtr map, uint maxEntries);

    [LibraryImport(Library, EntryPoint = "bpf_map__max_entries")]
    internal static partial uint MapMaxEntries(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__key_size")]
    internal static partial uint MapKeySize(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__value_size")]
    internal static partial uint MapValueSize(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__type")]
    internal static partial int MapType(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__btf_key_type_id")]
    internal static partial uint MapBtfKeyTypeId(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__btf_value_type_id")]
    internal static partial uint MapBtfValueTypeId(IntPtr map);

    [LibraryImport(Library, EntryPoint = "btf__type_by_id")]
    internal static partial BtfType* BtfTypeById(IntPtr btf, uint id);

    [LibraryImport(Library, EntryPoint = "btf__name_by_offset")]
    internal static partial byte* BtfNameByOffset(IntPtr btf, uint offset);

    [LibraryImport(Library, EntryPoint = "btf__find_by_name_kind", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int BtfFindByNameKind(IntPtr btf, string name, uint kind);

    [LibraryImport(Library, EntryPoint = "bpf_map_update_elem")]
    internal static partial int MapUpdateElem(BpfFdHandle map, void* key, void* value, ulong flags);

    [LibraryImport(Library, EntryPoint = "bpf_map_lookup_elem")]
    internal static partial int MapLookupElem(BpfFdHandle map, void* key, void* value);

    [LibraryImport(Library, EntryPoint = "bpf_map_delete_elem")]
    internal static partial int MapDeleteElem(BpfFdHandle map, void* key);

    [LibraryImport(Library, EntryPoint = "bpf_map_update_batch")]
    internal static partial int MapUpdateBatch(BpfFdHandle map, void* keys, void* values, uint* count, BpfMapBatchOpts* opts);

    [LibraryImport(Library, EntryPoint = "bpf_map_lookup_batch")]
    internal static partial int MapLookupBatch(BpfFdHandle map, void* inBatch, void* outBatch, void* keys, void* values, uint* count, BpfMapBatchOpts* opts);

    [LibraryImport(Library, EntryPoint = "bpf_map_get_next_key")]
    internal static partial int MapGetNextKey(BpfFdHandle map, void* key, void* nextKey);

    [LibraryImport(Library, EntryPoint = "bpf_link_create")]
    internal static partial int LinkCreate(BpfFdHandle program, int target, uint attachType, BpfLinkCreateOpts* opts);

    [LibraryImport(Library, EntryPoint = "bpf_prog_test_run_opts")]
    internal static partial int ProgTestRunOpts(BpfFdHandle program, BpfTestRunOpts* opts);

    [LibraryImport(Library, EntryPoint = "bpf_map__set_pin_path", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MapSetPinPath(IntPtr map, string path);

    [LibraryImport(Library, EntryPoint = "bpf_obj_pin", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ObjPin(BpfFdHandle handle, string path);

    [LibraryImport(Library, EntryPoint = "bpf_obj_get", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ObjGet(string path);

    [LibraryImport(Library, EntryPoint = "bpf_link_update")]
    internal static partial int LinkUpdate(BpfFdHandle link, BpfFdHandle newProgram, IntPtr opts);

    [LibraryImport(Library, EntryPoint = "bpf_object__next_map")]
    internal static partial IntPtr ObjectNextMap(BpfObjectHandle obj, IntPtr previous);

    [LibraryImport(Library, EntryPoint = "bpf_map__name")]
    internal static partial byte* MapName(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__is_internal")]
    [return: MarshalAs(UnmanagedType.U1)]
    internal static partial bool MapIsInternal(IntPtr map);

    [LibraryImport(Library, EntryPoint = "bpf_map__reuse_fd")]
    internal static partial int MapReuseFd(IntPtr map, int fd);

    [LibraryImport(Library, EntryPoint = "bpf_link_detach")]
    internal static partial int LinkDetach(BpfFdHandle link);

    [LibraryImport(Library, EntryPoint = "bpf_obj_get_info_by_fd")]
    internal static partial int ObjGetInfoByFd(BpfFdHandle handle, void* info, uint* infoLength);

    [LibraryImport(Library, EntryPoint = "btf__load_from_kernel_by_id", SetLastError = true)]
    internal static partial IntPtr BtfLoadFromKernelById(uint id);

    [LibraryImport(Library, EntryPoint = "btf__free")]
    internal static partial void BtfFree(IntPtr btf);

    [LibraryImport(Library, EntryPoint = "libbpf_num_possible_cpus")]
    internal static partial int NumPossibleCpus();

    [LibraryImport(Library, EntryPoint = "libbpf_set_print")]
    internal static partial IntPtr SetPrint(delegate* unmanaged[Cdecl]<int, byte*, IntPtr, int> callback);
}
