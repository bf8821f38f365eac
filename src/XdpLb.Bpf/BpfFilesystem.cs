using System.Runtime.InteropServices;

namespace XdpLb.Bpf;

/// <summary>Whether a directory lives on a BPF filesystem, where pins outlive the process that made them.</summary>
public static unsafe partial class BpfFilesystem
{
    private const long BpfFsMagic = 0xcafe4a11;

    [LibraryImport("libc", EntryPoint = "statfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int StatFs(string path, byte* buffer);

    /// <param name="probed">The nearest existing ancestor, whose filesystem the directory will be on.</param>
    public static bool Contains(string directory, out string probed)
    {
        probed = Path.GetFullPath(directory);
        while (!Directory.Exists(probed))
            probed = Path.GetDirectoryName(probed) ?? "/";
        byte* buffer = stackalloc byte[256]; // struct statfs; f_type is its first field
        if (StatFs(probed, buffer) != 0)
            throw new BpfException($"statfs of {probed}", Marshal.GetLastPInvokeError());
        return *(long*)buffer == BpfFsMagic;
    }
}
