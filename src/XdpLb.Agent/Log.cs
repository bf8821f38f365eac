namespace XdpLb.Agent;

/// <summary>logfmt lines on stderr: `ts=... level=info msg="..." key=value`.</summary>
internal static class Log
{
    private static readonly object Gate = new();

    public static void Info(string message, params (string Key, object? Value)[] fields) => Write("info", message, fields);
    public static void Warn(string message, params (string Key, object? Value)[] fields) => Write("warn", message, fields);
    public static void Error(string message, params (string Key, object? Value)[] fields) => Write("error", message, fields);

    private static void Write(string level, string message, (string Key, object? Value)[] fields)
    {
        var line = $"ts={DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} level={level} msg={Quote(message)}";
        foreach (var (key, value) in fields)
            line += $" {key}={Quote(value?.ToString() ?? "")}";
        lock (Gate)
            Console.Error.WriteLine(line);
    }

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => c > ' ' && c != '"' && c != '=') ? s : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
