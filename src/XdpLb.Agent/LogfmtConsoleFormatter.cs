using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using XdpLb.Core.Logging;

namespace XdpLb.Agent;

/// <summary>
/// logfmt lines: `ts=... level=info msg="..." key=value`. The message and every structured
/// field of the state become key=value pairs; lines of other libraries (Kestrel, gRPC) also
/// name their category, since their messages alone do not say where they come from.
/// </summary>
internal sealed class LogfmtConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "logfmt";

    public override void Write<TState>(in LogEntry<TState> entry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var line = new StringBuilder(128);
        line.Append("ts=").Append(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        line.Append(" level=").Append(Level(entry.LogLevel));
        line.Append(" msg=").Append(Quote(entry.Formatter(entry.State, entry.Exception)));
        if (entry.State is IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            foreach (var (key, value) in fields)
            {
                if (key != LogFields.OriginalFormat)
                    line.Append(' ').Append(key).Append('=').Append(Quote(Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));
            }
        }
        if (!entry.Category.StartsWith("XdpLb.", StringComparison.Ordinal))
            line.Append(" category=").Append(Quote(entry.Category));
        if (entry.Exception is { } e)
            line.Append(" exception=").Append(Quote(e.ToString()));
        textWriter.Write(line.Append('\n'));
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "error",
        _ => "crit",
    };

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => c > ' ' && c != '"' && c != '=') ? s : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
