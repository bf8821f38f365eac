namespace XdpLb.Agent;

/// <summary>XDP cannot run on this node: --dataplane auto tries IPVS next, an explicit choice fails with the cause.</summary>
internal sealed class XdpUnavailableException(Exception cause) : Exception(Brief(cause.Message), cause)
{
    public Exception Cause { get; } = cause;

    // The error's first line and libbpf's last word on it; the whole log is for the xdp choice.
    private static string Brief(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length <= 1 ? message : $"{lines[0]} ({lines.Where(l => !l.StartsWith("libbpf: failed to load", StringComparison.Ordinal)).Last()})";
    }
}
