using System.Globalization;
using System.Text.RegularExpressions;

namespace XdpLb.Core.Config;

/// <summary>Time values: integer seconds, or a duration string such as "900s", "15m", "1h30m", "500ms".</summary>
public static partial class Durations
{
    [GeneratedRegex(@"^(?:(\d+)(ms|s|m|h))+$")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"(\d+)(ms|s|m|h)")]
    private static partial Regex DurationPart();

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        if (ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seconds))
        {
            if (seconds > int.MaxValue)
                return false;
            value = TimeSpan.FromSeconds(seconds);
            return true;
        }
        if (!DurationPattern().IsMatch(text))
            return false;
        double totalMs = 0;
        foreach (Match part in DurationPart().Matches(text))
        {
            if (!double.TryParse(part.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out double n))
                return false;
            totalMs += n * part.Groups[2].Value switch { "ms" => 1, "s" => 1_000, "m" => 60_000, _ => 3_600_000 };
        }
        if (totalMs > int.MaxValue * 1000.0)
            return false;
        value = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }
}
