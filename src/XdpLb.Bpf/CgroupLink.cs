using System.Runtime.InteropServices;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>
/// A program attached at one hook of a cgroup v2 directory through a BPF link, pinned so
/// that it keeps serving the cgroup's sockets while no agent runs. Links of other owners at
/// the same hook stay: cgroup links always attach with BPF_F_ALLOW_MULTI.
/// </summary>
public sealed unsafe class CgroupLink : IDisposable
{
    private const long Cgroup2Magic = 0x63677270;

    private readonly BpfFdHandle link;

    private CgroupLink(BpfFdHandle link, string program, string pinPath)
    {
        this.link = link;
        Program = program;
        PinPath = pinPath;
    }

    public string Program { get; }
    public string PinPath { get; }

    /// <summary>Whether a directory is on a cgroup v2 filesystem.</summary>
    public static bool IsCgroup2(string directory) => Directory.Exists(directory) && Libc.FilesystemMagic(directory, out _) == Cgroup2Magic;

    /// <summary>A cgroup's id: the inode of its directory, as the kernel reports it in link info.</summary>
    public static ulong CgroupId(string directory) => Libc.InodeOf(directory);

    /// <summary>
    /// Takes over the link pinned at <paramref name="pinPath"/> when it is attached to the
    /// same cgroup at the same hook, moving it to <paramref name="program"/> in one step (no
    /// connect goes unbalanced meanwhile); otherwise detaches that one and attaches anew.
    /// </summary>
    public static CgroupLink AttachPinned(BpfProgram program, uint attachType, string cgroupDirectory, string pinPath, out bool adopted)
    {
        adopted = false;
        ulong cgroupId = CgroupId(cgroupDirectory);
        if (File.Exists(pinPath))
        {
            int fd = LibBpf.ObjGet(pinPath);
            if (fd >= 0)
            {
                var pinned = new BpfFdHandle(fd, ownsHandle: true);
                if (AttachedTo(pinned) == (cgroupId, attachType) && LibBpf.LinkUpdate(pinned, program.Fd, IntPtr.Zero) == 0)
                {
                    adopted = true;
                    return new CgroupLink(pinned, program.Name, pinPath);
                }
                pinned.Dispose();
            }
            // Another cgroup or hook (or no link): that one goes, this one is attached anew.
            PinnedLink.Detach(pinPath);
        }
        // Tmds.LibC's flags: O_DIRECTORY's value differs between architectures.
        int cgroupFd = Libc.Open(cgroupDirectory, Tmds.Linux.LibC.O_RDONLY | Tmds.Linux.LibC.O_DIRECTORY | Tmds.Linux.LibC.O_CLOEXEC);
        if (cgroupFd < 0)
            throw new BpfException($"opening cgroup {cgroupDirectory}", Marshal.GetLastPInvokeError());
        try
        {
            var opts = new BpfLinkCreateOpts { Size = (nuint)sizeof(BpfLinkCreateOpts) };
            int linkFd = LibBpf.LinkCreate(program.Fd, cgroupFd, attachType, &opts);
            if (linkFd < 0)
                throw new BpfException($"attaching {program.Name} to cgroup {cgroupDirectory}", -linkFd, LibBpfLog.Drain());
            var handle = new BpfFdHandle(linkFd, ownsHandle: true);
            int pinned = LibBpf.ObjPin(handle, pinPath);
            if (pinned != 0)
            {
                LibBpf.LinkDetach(handle);
                handle.Dispose();
                BpfException.Check(pinned, $"pinning the cgroup link of {program.Name} at {pinPath}");
            }
            return new CgroupLink(handle, program.Name, pinPath);
        }
        finally
        {
            Tmds.Linux.LibC.close(cgroupFd);
        }
    }

    // struct bpf_link_info: type, id, prog_id, then (8-aligned) cgroup.cgroup_id, cgroup.attach_type.
    private static (ulong CgroupId, uint AttachType)? AttachedTo(BpfFdHandle link)
    {
        byte* info = stackalloc byte[128];
        new Span<byte>(info, 128).Clear();
        uint length = 128;
        const uint BpfLinkTypeCgroup = 3;
        if (LibBpf.ObjGetInfoByFd(link, info, &length) != 0 || *(uint*)info != BpfLinkTypeCgroup)
            return null;
        return (*(ulong*)(info + 16), *(uint*)(info + 24));
    }

    /// <summary>Detaches now and removes the pin.</summary>
    public void Detach()
    {
        File.Delete(PinPath);
        LibBpf.LinkDetach(link);
        link.Dispose();
    }

    /// <summary>Closes this process's handle: the pinned link stays attached.</summary>
    public void Dispose() => link.Dispose();
}
