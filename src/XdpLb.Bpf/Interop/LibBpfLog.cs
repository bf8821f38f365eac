using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace XdpLb.Bpf.Interop;

/// <summary>
/// Captures libbpf's messages (the verifier log among them) so that a failed load can say
/// why, instead of leaving it on stderr where a DaemonSet's logs may lose it.
/// </summary>
internal static unsafe class LibBpfLog
{
    private const int MaxLines = 400;
    private static readonly Queue<string> Lines = new();
    private static readonly object Gate = new();
    private static int installed;

    internal static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 0)
            LibBpf.SetPrint(&Print);
    }

    /// <summary>Lines logged since the last call, oldest first.</summary>
    internal static IReadOnlyList<string> Drain()
    {
        lock (Gate)
        {
            var lines = Lines.ToArray();
            Lines.Clear();
            return lines;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Print(int level, byte* format, IntPtr args)
    {
        // va_list can be consumed once, so format into a buffer large enough for one line
        // of verifier output rather than measuring first.
        const int size = 8192;
        byte* buffer = stackalloc byte[size];
        int n = Libc.VsnPrintf(buffer, size, format, args);
        if (n <= 0)
            return 0;
        string text = Encoding.UTF8.GetString(buffer, Math.Min(n, size - 1));
        lock (Gate)
        {
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Lines.Enqueue(line);
                if (Lines.Count > MaxLines)
                    Lines.Dequeue();
            }
        }
        return 0;
    }
}
