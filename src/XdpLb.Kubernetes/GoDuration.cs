using System.Globalization;

namespace XdpLb.Kubernetes;

/// <summary>
/// Go's time.ParseDuration, which is how kube-proxy reads every duration in its file
/// (metav1.Duration): "900s", "15m", "1h2m3s", "1.5s", "-1s", "0"; a unit is required
/// on every number except a lone "0".
/// </summary>
internal static class GoDuration
{
    private static readonly (string Unit, long Nanoseconds)[] Units =
    [
        ("ns", 1), ("us", 1_000), ("\u00b5s", 1_000), ("\u03bcs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ];

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        int i = 0;
        bool negative = false;
        if (i < text.Length && text[i] is '-' or '+')
            negative = text[i++] == '-';
        if (text[i..] == "0")
            return true;
        if (i == text.Length)
            return false;

        // Go keeps int64 nanoseconds; decimal holds the sum exactly until the range check.
        decimal totalNs = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
                i++;
            int intEnd = i;
            int fracStart = i, fracEnd = i;
            if (i < text.Length && text[i] == '.')
            {
                fracStart = ++i;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                    i++;
                fracEnd = i;
            }
            if (intEnd == start && fracEnd == fracStart)
                return false;
            int unitStart = i;
            while (i < text.Length && text[i] != '.' && !char.IsAsciiDigit(text[i]))
                i++;
            string unit = text[unitStart..i];
            long unitNs = Array.Find(Units, u => u.Unit == unit).Nanoseconds;
            if (unitNs == 0)
                return false;
            if (intEnd - start > 19 || fracEnd - fracStart > 19)
                return false;
            decimal number = intEnd == start ? 0 : decimal.Parse(text[start..intEnd], NumberStyles.None, CultureInfo.InvariantCulture);
            if (fracEnd > fracStart)
                number += decimal.Parse("0." + text[fracStart..fracEnd], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            if (number > (long.MaxValue - totalNs) / unitNs)
                return false;
            totalNs += number * unitNs;
        }
        long ticks = (long)Math.Truncate(totalNs / 100);
        value = TimeSpan.FromTicks(negative ? -ticks : ticks);
        return true;
    }
}
