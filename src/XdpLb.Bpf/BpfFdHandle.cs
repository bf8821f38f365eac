using Microsoft.Win32.SafeHandles;

namespace XdpLb.Bpf;

/// <summary>
/// A BPF file descriptor: owning for links and pinned objects we opened (closing a link
/// fd detaches it), non-owning for programs and maps that their bpf_object closes.
/// </summary>
public sealed class BpfFdHandle : SafeHandleMinusOneIsInvalid
{
    public BpfFdHandle(int fd, bool ownsHandle) : base(ownsHandle) => SetHandle(fd);

    public int Fd => IsClosed ? throw new ObjectDisposedException(nameof(BpfFdHandle)) : (int)handle;

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close((int)handle) == 0;
}
