using System.Runtime.InteropServices.Marshalling;
using Microsoft.Win32.SafeHandles;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>
/// A BPF file descriptor: owning for links and pinned objects we opened (closing a link
/// fd detaches it), non-owning for programs and maps that their bpf_object closes.
/// </summary>
[NativeMarshalling(typeof(BpfFdMarshaller))]
public sealed class BpfFdHandle : SafeHandleMinusOneIsInvalid
{
    public BpfFdHandle(int fd, bool ownsHandle) : base(ownsHandle) => SetHandle(fd);

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close((int)handle) == 0;
}
