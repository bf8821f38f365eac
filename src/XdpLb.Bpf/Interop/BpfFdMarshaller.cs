using System.Runtime.InteropServices.Marshalling;

namespace XdpLb.Bpf.Interop;

/// <summary>
/// Passes a <see cref="BpfFdHandle"/> to libbpf as the C int it takes, holding a reference on
/// the handle for the call: a Dispose on another thread (the agent stopping while a sweep
/// reads a map) then closes the fd only after the call, never while the kernel uses it or
/// after the number went to another file. The built-in SafeHandle marshalling would pass a
/// pointer-sized value where libbpf declares an int.
/// </summary>
[CustomMarshaller(typeof(BpfFdHandle), MarshalMode.ManagedToUnmanagedIn, typeof(ManagedToUnmanagedIn))]
internal static class BpfFdMarshaller
{
    public struct ManagedToUnmanagedIn
    {
        private BpfFdHandle? handle;
        private bool referenced;

        public void FromManaged(BpfFdHandle managed)
        {
            handle = managed;
            managed.DangerousAddRef(ref referenced);
        }

        public readonly int ToUnmanaged() => (int)handle!.DangerousGetHandle();

        public readonly void Free()
        {
            if (referenced)
                handle!.DangerousRelease();
        }
    }
}
