namespace HaproxyAutoscale.Forecasting;

/// <summary>
/// The forecast: for a coming period [now, now + lead], each past day <c>d</c> of the lookback gives its peak, the most
/// servers needed from <c>spread</c> before the period's start to <c>spread</c> after its end, <c>d</c> days earlier
/// (UTC: the same time of day); the forecast is the weighted <c>percentile</c> of those peaks, a day on the same
/// weekday weighing <see cref="SameWeekdayWeight"/> times another. A day without any record in its range does not
/// vote; with no day voting there is no forecast.
/// </summary>
internal static class ForecastRule
{
    /// <summary>How much more a past day on the same weekday weighs than another day.</summary>
    public const double SameWeekdayWeight = 3;

    private const int MinutesPerDay = 24 * 60;

    /// <summary>The forecast servers for the minutes <paramref name="from"/> to <paramref name="to"/> (Unix minutes), and the days that voted.</summary>
    public static (int Servers, int Days)? Forecast(DemandHistory history, long from, long to, ForecastOptions options)
    {
        int days = Math.Max(1, (int)Math.Round(options.Lookback.TotalDays));
        long spread = (long)options.Spread.TotalMinutes;
        var peaks = new List<(int Peak, double Weight)>(days);
        for (int d = 1; d <= days; d++)
        {
            long shift = (long)d * MinutesPerDay;
            int? peak = null;
            for (long minute = from - shift - spread; minute <= to - shift + spread; minute++)
            {
                if (history.At(minute) is int needed && needed > (peak ?? -1))
                {
                    peak = needed;
                }
            }

            if (peak is int p)
            {
                peaks.Add((p, d % 7 == 0 ? SameWeekdayWeight : 1));
            }
        }

        return peaks.Count == 0 ? null : (WeightedPercentile(peaks, options.Percentile), peaks.Count);
    }

    // The smallest peak whose cumulative weight reaches the percentile of the total.
    internal static int WeightedPercentile(List<(int Peak, double Weight)> peaks, double percentile)
    {
        peaks.Sort((a, b) => a.Peak.CompareTo(b.Peak));
        double total = peaks.Sum(p => p.Weight), wanted = total * percentile / 100, cumulative = 0;
        foreach ((int peak, double weight) in peaks)
        {
            cumulative += weight;
            if (cumulative >= wanted - 1e-9)
            {
                return peak;
            }
        }

        return peaks[^1].Peak;
    }
}
