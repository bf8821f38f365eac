using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial uint IfNameToIndex(string name);

    [LibraryImport("libc", EntryPoint = "vsnprintf")]
    internal static partial int VsnPrintf(byte* buffer, nuint size, byte* format, IntPtr args);
}
