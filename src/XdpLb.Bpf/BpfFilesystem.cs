namespace XdpLb.Bpf;

/// <summary>Whether a directory lives on a BPF filesystem, where pins outlive the process that made them.</summary>
public static class BpfFilesystem
{
    private const long BpfFsMagic = 0xcafe4a11;

    /// <param name="probed">The nearest existing ancestor, whose filesystem the directory will be on.</param>
    public static bool Contains(string directory, out string probed)
    {
        probed = Path.GetFullPath(directory);
        while (!Directory.Exists(probed))
            probed = Path.GetDirectoryName(probed) ?? "/";
        return (Interop.Libc.FilesystemMagic(probed, out int errno) ?? throw new BpfException($"statfs of {probed}", errno)) == BpfFsMagic;
    }
}
