using System.Globalization;

namespace XdpLb.Kubernetes;

/// <summary>
/// Times as kube-proxy prints them in its health answers (Go's time.Time.String, in UTC and
/// without the monotonic reading): "2024-05-01 12:00:00.5 +0000 UTC"; the zero time for "never".
/// </summary>
internal static class GoTimeText
{
    public static string Format(DateTime? time)
    {
        var utc = time is { } t ? (t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t) : DateTime.MinValue;
        // F digits drop trailing zeros and, when all are zero, the point: Go's .999999999.
        return utc.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture) + " +0000 UTC";
    }
}
