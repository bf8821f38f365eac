using Microsoft.Win32.SafeHandles;
using XdpLb.Bpf.Interop;

namespace XdpLb.Bpf;

/// <summary>Owns a struct bpf_object*; closing it releases its programs and maps.</summary>
internal sealed class BpfObjectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public BpfObjectHandle() : base(ownsHandle: true) { }

    internal BpfObjectHandle(IntPtr handle) : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle()
    {
        LibBpf.ObjectClose(handle);
        return true;
    }
}
