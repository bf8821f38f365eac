using System.Runtime.InteropServices;

namespace XdpLb.Bpf;

/// <summary>A libbpf or BPF syscall failure: what was being done, and the errno it ended with.</summary>
public sealed class BpfException : Exception
{
    public BpfException(string operation, int errno, IReadOnlyList<string>? log = null)
        : base(Format(operation, errno, log))
    {
        Operation = operation;
        Errno = errno;
        Log = log ?? [];
    }

    public string Operation { get; }
    public int Errno { get; }
    public IReadOnlyList<string> Log { get; }

    /// <summary>Throws for a libbpf int result (negative errno on failure).</summary>
    internal static int Check(int result, string operation)
    {
        if (result < 0)
            throw new BpfException(operation, -result, Interop.LibBpfLog.Drain());
        return result;
    }

    private static string Format(string operation, int errno, IReadOnlyList<string>? log)
    {
        string message = $"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        if (log is { Count: > 0 })
            message += Environment.NewLine + "libbpf said:" + Environment.NewLine + string.Join(Environment.NewLine, log.TakeLast(60));
        return message;
    }
}
