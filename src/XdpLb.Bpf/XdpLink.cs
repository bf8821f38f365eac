using System.Runtime.InteropServices;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

public enum XdpMode
{
    /// <summary>In the driver (XDP_FLAGS_DRV_MODE): the fast path.</summary>
    Native,
    /// <summary>In the stack after the skb is built (XDP_FLAGS_SKB_MODE): works on any interface.</summary>
    Generic,
}

/// <summary>
/// An XDP program attached to an interface through a BPF link. The link holds the
/// attachment: disposing it detaches the program. A link refuses to replace a program
/// that someone else attached, so another owner's XDP program is never removed silently.
/// </summary>
public sealed unsafe class XdpLink : IDisposable
{
    private const uint BpfXdp = 37;           // enum bpf_attach_type BPF_XDP
    private const uint XdpFlagsSkbMode = 1u << 1;
    private const uint XdpFlagsDrvMode = 1u << 2;
    private const int EBUSY = 16, EEXIST = 17;

    private readonly BpfFdHandle link;

    private XdpLink(BpfFdHandle link, string interfaceName, int ifindex, XdpMode? mode, string? pinPath)
    {
        this.link = link;
        Interface = interfaceName;
        Ifindex = ifindex;
        Mode = mode;
        PinPath = pinPath;
    }

    public string Interface { get; }
    public int Ifindex { get; }
    /// <summary>How the link was attached; null for a link adopted from the pin directory.</summary>
    public XdpMode? Mode { get; }
    /// <summary>Where the link is pinned: it then stays attached after this process exits.</summary>
    public string? PinPath { get; }

    /// <summary>
    /// Takes over the link pinned at <paramref name="pinPath"/> by an earlier agent, moving
    /// it to <paramref name="program"/> in one atomic step (packets never see no program),
    /// or attaches a new link and pins it there.
    /// </summary>
    public static XdpLink AttachPinned(BpfProgram program, string interfaceName, XdpMode mode, string pinPath, out bool adopted)
    {
        adopted = false;
        int ifindex = InterfaceIndex(interfaceName);
        if (File.Exists(pinPath))
        {
            int fd = LibBpf.ObjGet(pinPath);
            if (fd >= 0)
            {
                var pinned = new BpfFdHandle(fd, ownsHandle: true);
                if (LibBpf.LinkUpdate(pinned, program.Fd, IntPtr.Zero) == 0)
                {
                    adopted = true;
                    return new XdpLink(pinned, interfaceName, ifindex, null, pinPath);
                }
                pinned.Dispose();
            }
            // The interface it was attached to is gone (or it is no link): start over.
            File.Delete(pinPath);
        }
        var link = Attach(program, interfaceName, mode);
        BpfException.Check(LibBpf.ObjPin(link.link, pinPath), $"pinning the XDP link of {interfaceName} at {pinPath}");
        return new XdpLink(link.link, interfaceName, link.Ifindex, mode, pinPath);
    }

    /// <summary>Detaches now, pinned or not.</summary>
    public void Detach()
    {
        if (PinPath is not null)
            File.Delete(PinPath);
        link.Dispose();
    }

    public static XdpLink Attach(BpfProgram program, string interfaceName, XdpMode mode)
    {
        int ifindex = InterfaceIndex(interfaceName);
        var opts = new BpfLinkCreateOpts
        {
            Size = (nuint)sizeof(BpfLinkCreateOpts),
            Flags = mode == XdpMode.Native ? XdpFlagsDrvMode : XdpFlagsSkbMode,
        };
        int fd = LibBpf.LinkCreate(program.Fd, ifindex, BpfXdp, &opts);
        if (fd < 0)
        {
            string what = $"attaching XDP program {program.Name} to {interfaceName} in {mode.ToString().ToLowerInvariant()} mode";
            if (-fd is EBUSY or EEXIST)
                what += " (another XDP program is attached there; xdplb does not replace it: detach it first)";
            throw new BpfException(what, -fd, LibBpfLog.Drain());
        }
        return new XdpLink(new BpfFdHandle(fd, ownsHandle: true), interfaceName, ifindex, mode, null);
    }

    /// <summary>The interface's index, 0 when there is none of that name.</summary>
    public static int TryInterfaceIndex(string interfaceName) => (int)Libc.IfNameToIndex(interfaceName);

    public static int InterfaceIndex(string interfaceName)
    {
        uint index = Libc.IfNameToIndex(interfaceName);
        if (index == 0)
            throw new BpfException($"finding interface {interfaceName}", Marshal.GetLastPInvokeError());
        return (int)index;
    }

    /// <summary>Closes this process's handle: an unpinned link detaches, a pinned one stays.</summary>
    public void Dispose() => link.Dispose();
}
