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

    private XdpLink(BpfFdHandle link, string interfaceName, int ifindex, XdpMode mode)
    {
        this.link = link;
        Interface = interfaceName;
        Ifindex = ifindex;
        Mode = mode;
    }

    public string Interface { get; }
    public int Ifindex { get; }
    public XdpMode Mode { get; }

    public static XdpLink Attach(BpfProgram program, string interfaceName, XdpMode mode)
    {
        int ifindex = InterfaceIndex(interfaceName);
        var opts = new BpfLinkCreateOpts
        {
            Size = (nuint)sizeof(BpfLinkCreateOpts),
            Flags = mode == XdpMode.Native ? XdpFlagsDrvMode : XdpFlagsSkbMode,
        };
        int fd = LibBpf.LinkCreate(program.Fd.Fd, ifindex, BpfXdp, &opts);
        if (fd < 0)
        {
            string what = $"attaching XDP program {program.Name} to {interfaceName} in {mode.ToString().ToLowerInvariant()} mode";
            if (-fd is EBUSY or EEXIST)
                what += " (another XDP program is attached there; xdplb does not replace it: detach it first)";
            throw new BpfException(what, -fd, LibBpfLog.Drain());
        }
        return new XdpLink(new BpfFdHandle(fd, ownsHandle: true), interfaceName, ifindex, mode);
    }

    public static int InterfaceIndex(string interfaceName)
    {
        uint index = Libc.IfNameToIndex(interfaceName);
        if (index == 0)
            throw new BpfException($"finding interface {interfaceName}", Marshal.GetLastPInvokeError());
        return (int)index;
    }

    public void Dispose() => link.Dispose();
}
