using System.Globalization;

namespace HaproxyAutoscale.Configuration;

/// <summary>Durations as configuration writes them: <c>"00:05:00"</c>, or a number with a unit: <c>"250ms"</c>, <c>"30s"</c>, <c>"5m"</c>, <c>"1h"</c>.</summary>
internal static class Durations
{
    /// <summary>Parses a duration; false for anything else, negative values included.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
        }

        (string number, double unitMs) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 1d),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1000d),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60_000d),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3_600_000d),
            _ => ("", 0d),
        };
        // Beyond TimeSpan's range ("99999999999999h") is not a duration either, rather than an OverflowException.
        if (unitMs == 0 || !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || value < 0
            || value * unitMs >= TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(value * unitMs);
        return true;
    }

    /// <summary>Formats a duration the short way: <c>250ms</c>, <c>30s</c>, <c>5m</c>, <c>5m 0.2s</c>, <c>1h 2m</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.FromSeconds(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0.###}ms");
        }

        var parts = new List<string>(3);
        if (duration.TotalHours >= 1)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{(long)duration.TotalHours}h"));
        }

        if (duration.Minutes > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{duration.Minutes}m"));
        }

        double seconds = duration.Seconds + (duration.Milliseconds / 1000d);
        if (seconds > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{seconds:0.###}s"));
        }

        return string.Join(' ', parts);
    }
}
