using System.Runtime.InteropServices;

namespace XdpLb.Bpf.Interop;

internal static unsafe partial class Libc
{
    internal const int ProtRead = 1, ProtWrite = 2, MapShared = 1;
    internal const int ClockMonotonic = 1;

    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "if_nametoindex", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial uint IfNameToIndex(string name);

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "statfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int StatFs(string path, byte* buffer);

    /// <summary>The magic number of the filesystem a path is on (struct statfs's f_type, its first field); null with the errno when statfs fails.</summary>
    internal static long? FilesystemMagic(string path, out int errno)
    {
        byte* buffer = stackalloc byte[256];
        errno = StatFs(path, buffer) == 0 ? 0 : Marshal.GetLastPInvokeError();
        return errno == 0 ? *(long*)buffer : null;
    }

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Stat(string path, byte* buffer);

    /// <summary>A file's inode number (struct stat's st_ino, after st_dev on x86_64 and arm64).</summary>
    internal static ulong InodeOf(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (Stat(path, buffer) != 0)
            throw new BpfException($"stat of {path}", Marshal.GetLastPInvokeError());
        return *(ulong*)(buffer + 8);
    }

    [LibraryImport("libc", EntryPoint = "vsnprintf")]
    internal static partial int VsnPrintf(byte* buffer, nuint size, byte* format, IntPtr args);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    internal static partial IntPtr Mmap(IntPtr address, nuint length, int protection, int flags, BpfFdHandle fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(IntPtr address, nuint length);

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int ClockGettime(int clock, Timespec* time);

    /// <summary>CLOCK_MONOTONIC in nanoseconds: the clock of bpf_ktime_get_ns().</summary>
    internal static ulong MonotonicNanoseconds()
    {
        Timespec t;
        if (ClockGettime(ClockMonotonic, &t) != 0)
            throw new BpfException("reading CLOCK_MONOTONIC", Marshal.GetLastPInvokeError());
        return (ulong)t.Seconds * 1_000_000_000UL + (ulong)t.Nanoseconds;
    }
}
