using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace XdpLb.Agent;

/// <summary>The agent's logging: logfmt on stderr, its own lines from Information, libraries' from Warning.</summary>
internal static class AgentLogging
{
    public static ILoggerFactory CreateFactory() => LoggerFactory.Create(Configure);

    public static void Configure(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Information);
        // Kestrel's and gRPC's problems (a TLS handshake refused, a call that threw) are the
        // operator's to see; their per-request chatter is not.
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        // The host logs a start that failed with the exception's stack, which Program then
        // reports in its own words with the exit status; a background service that fails logs itself.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        logging.AddConsole(o =>
        {
            o.FormatterName = LogfmtConsoleFormatter.FormatterName;
            // stdout is the commands' output (list, stats); the log never mixes into it.
            o.LogToStandardErrorThreshold = LogLevel.Trace;
        });
        logging.AddConsoleFormatter<LogfmtConsoleFormatter, ConsoleFormatterOptions>();
    }
}
