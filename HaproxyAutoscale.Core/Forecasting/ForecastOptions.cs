using System.Globalization;

namespace HaproxyAutoscale.Forecasting;

/// <summary>
/// A backend's forecast floor (<c>backends.NAME.forecast</c>): from the servers the backend needed at the same time of
/// day over the last days (kept per minute in the state directory), a lower bound raised ahead of the load by the
/// measured time a server takes to be ready. It only ever raises the floor: a forecast never scales down.
/// </summary>
public sealed class ForecastOptions
{
    /// <summary>Whether the forecast is off, only shown (<c>forecast-only</c>: explain, status, metric), or raises the floor (<c>on</c>).</summary>
    /// <value>The default is <see cref="ForecastMode.Off"/>.</value>
    public ForecastMode Mode { get; set; } = ForecastMode.Off;

    /// <summary>How many past days the forecast reads (1 to 14 days: the history keeps 14).</summary>
    /// <value>The default is 14 days.</value>
    public TimeSpan Lookback { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Minutes on either side of the same time of day that count as "the same time" on a past day (0 to 2 hours).</summary>
    /// <value>The default is 10 minutes.</value>
    public TimeSpan Spread { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The weighted percentile of the past days' peaks the forecast takes (1 to 100; 100 is the highest peak). The
    /// same weekday weighs <see cref="ForecastRule.SameWeekdayWeight"/> times another day.
    /// </summary>
    /// <value>The default is 90.</value>
    public double Percentile { get; set; } = 90;

    /// <summary>
    /// The least time the floor is raised ahead of the load; the lead is the longest of this and the recently
    /// measured decision-to-ready time of the backend's scale-ups (provider start and warm-up included).
    /// </summary>
    /// <value>The default is 1 minute.</value>
    public TimeSpan MinLead { get; set; } = TimeSpan.FromMinutes(1);

    // The rules, for configuration and options built in code alike.
    internal void Validate(string path, Action<string, string> addError)
    {
        if (!System.Enum.IsDefined(Mode))
        {
            addError($"{path}.mode", $"must be one of {string.Join(", ", ForecastModes.Names)}");
        }

        if (Lookback < TimeSpan.FromDays(1) || Lookback > DemandHistory.Span)
        {
            addError($"{path}.lookback", "must be from 1 day (\"24h\") to 14 days (\"336h\")");
        }

        if (Spread < TimeSpan.Zero || Spread > TimeSpan.FromHours(2))
        {
            addError($"{path}.spread", "must be from 0 to 2 hours");
        }

        if (!(Percentile is >= 1 and <= 100))
        {
            addError($"{path}.percentile", string.Create(CultureInfo.InvariantCulture, $"must be a number from 1 to 100, not {Percentile}"));
        }

        if (MinLead < TimeSpan.Zero || MinLead > TimeSpan.FromHours(1))
        {
            addError($"{path}.minLead", "must be from 0 to 1 hour");
        }
    }
}

/// <summary>What a backend's forecast does.</summary>
public enum ForecastMode
{
    /// <summary>No forecast, no history kept for it (<c>off</c>).</summary>
    Off,

    /// <summary>The forecast is computed and shown (explain, <c>/status</c>, the <c>forecast_servers</c> metric) but never acted on (<c>forecast-only</c>).</summary>
    ForecastOnly,

    /// <summary>The forecast raises the backend's lower bound ahead of the load (<c>on</c>).</summary>
    On,
}

/// <summary>The configuration names of <see cref="ForecastMode"/>.</summary>
internal static class ForecastModes
{
    public static readonly (string Name, ForecastMode Value)[] All = [("off", ForecastMode.Off), ("forecast-only", ForecastMode.ForecastOnly), ("on", ForecastMode.On)];

    public static IEnumerable<string> Names => All.Select(m => m.Name);

    public static string Name(ForecastMode mode) => Array.Find(All, m => m.Value == mode).Name ?? mode.ToString();

    /// <summary>The mode named <paramref name="text"/> (as documented, or the enum's name), or <see langword="null"/>.</summary>
    public static ForecastMode? Parse(string text)
    {
        foreach ((string name, ForecastMode value) in All)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase) || string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }
}
