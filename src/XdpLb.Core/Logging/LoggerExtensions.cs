using Microsoft.Extensions.Logging;

namespace XdpLb.Core.Logging;

/// <summary>
/// The project's log calls: a fixed message and named fields (`msg="xdp attached" interface=eth0`),
/// rather than values interpolated into the message, so that a line's message can be grepped.
/// </summary>
public static class LoggerExtensions
{
    public static void Info(this ILogger logger, string message, params (string Key, object? Value)[] fields) =>
        Write(logger, LogLevel.Information, message, fields);

    public static void Warn(this ILogger logger, string message, params (string Key, object? Value)[] fields) =>
        Write(logger, LogLevel.Warning, message, fields);

    public static void Error(this ILogger logger, string message, params (string Key, object? Value)[] fields) =>
        Write(logger, LogLevel.Error, message, fields);

    private static void Write(ILogger logger, LogLevel level, string message, (string Key, object? Value)[] fields)
    {
        if (logger.IsEnabled(level))
            logger.Log(level, default, new LogFields(message, fields), null, static (state, _) => state.Message);
    }
}
