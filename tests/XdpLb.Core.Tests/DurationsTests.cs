using XdpLb.Core.Config;

namespace XdpLb.Core.Tests;

public sealed class DurationsTests
{
    [Theory]
    [InlineData("900", 900_000)]
    [InlineData("900s", 900_000)]
    [InlineData("15m", 900_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("500ms", 500)]
    [InlineData("0", 0)]
    public void ParsesSecondsAndDurationStrings(string text, long ms)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(ms), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5")]
    [InlineData("5d")]
    [InlineData("1.5s")]
    [InlineData("s")]
    [InlineData("15 m")]
    [InlineData("99999999999")]
    public void RejectsOtherText(string text) => Assert.False(Durations.TryParse(text, out _));
}
