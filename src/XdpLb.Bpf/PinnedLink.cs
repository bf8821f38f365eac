using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>A BPF link pinned on bpffs by an earlier agent (an XDP link or a socket hook).</summary>
public static class PinnedLink
{
    /// <summary>
    /// Removes it (its interface is no longer served, the hook is no longer wanted, or xdplb
    /// cleanup): the program is off its interface or cgroup when this returns. Unlinking
    /// alone would detach only once the kernel frees the link, later, and not at all while a
    /// process still holds it.
    /// </summary>
    public static void Detach(string pinPath)
    {
        int fd = LibBpf.ObjGet(pinPath);
        File.Delete(pinPath);
        if (fd < 0)
            return; // not a pinned object any more: nothing attached through it
        using var link = new BpfFdHandle(fd, ownsHandle: true);
        // Fails when the link's interface is gone, which detached it already.
        LibBpf.LinkDetach(link);
    }
}
