using System.Globalization;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Forecasting;

/// <summary>What a backend's forecast says now: the floor it asks for, how far ahead, from how many past days, and why.</summary>
/// <param name="Mode">The backend's forecast mode.</param>
/// <param name="Servers">The servers forecast for the coming lead time.</param>
/// <param name="Lead">How far ahead the forecast looks (the measured decision-to-ready time, at least <c>minLead</c>).</param>
/// <param name="Days">The past days that voted.</param>
/// <param name="Reason">The sentence explain shows.</param>
public sealed record ForecastStatus(ForecastMode Mode, int Servers, TimeSpan Lead, int Days, string Reason);

/// <summary>
/// A backend's forecast state, kept across reloads: its demand history (read from the state directory the first time
/// it is needed), the minute being recorded, the recent scale-up lags that set the lead time, and the forecast of the
/// current minute. Fed by the decider at each evaluation (no timer of its own). Not thread-safe: under the backend's lock.
/// </summary>
internal sealed class BackendForecast(string backend, ForecastOptions options, DemandHistoryStore? store)
{
    private const int LagsKept = 8;

    private readonly Queue<TimeSpan> _lags = new();
    private ForecastOptions _options = options;
    private DemandHistory? _history;
    private long _minute = long.MinValue;
    private int _peak;
    private double _inFlightSum;
    private int _inFlightCount;
    private long _forecastMinute = long.MinValue;
    private ForecastStatus? _current;
    private int _reported = -1;

    public ForecastMode Mode => _options.Mode;

    /// <summary>What reading the history found (skipped records, a failure), once, for the log; <see langword="null"/> when nothing to say.</summary>
    public string? LoadNote { get; private set; }

    public DemandHistory? History => _history;

    /// <summary>Starts from <paramref name="history"/> instead of reading the state directory (tests, a simulation seeded with history).</summary>
    public void UseHistory(DemandHistory? history)
    {
        if (history is not null)
        {
            _history = history;
        }
    }

    /// <summary>A reload's new options (the history and lags stay).</summary>
    public void Reconfigure(ForecastOptions options)
    {
        _options = options;
        _forecastMinute = long.MinValue;
    }

    /// <summary>A scale-up of the backend took <paramref name="lag"/> from its decision to the server taking traffic.</summary>
    public void NoteReady(TimeSpan lag)
    {
        if (_lags.Count == LagsKept)
        {
            _lags.Dequeue();
        }

        _lags.Enqueue(lag);
    }

    /// <summary>How far ahead the floor is raised: the longest recent scale-up lag, at least <c>minLead</c>.</summary>
    public TimeSpan Lead => _lags.Count == 0 ? _options.MinLead : TimeSpan.FromTicks(Math.Max(_options.MinLead.Ticks, _lags.Max().Ticks));

    /// <summary>An evaluation at <paramref name="now"/> needed <paramref name="needed"/> servers for <paramref name="inFlight"/> requests in flight.</summary>
    public void Note(DateTimeOffset now, int needed, double? inFlight)
    {
        if (_options.Mode == ForecastMode.Off)
        {
            return;
        }

        long minute = DemandHistory.MinuteOf(now);
        if (minute != _minute)
        {
            if (_minute != long.MinValue)
            {
                var completed = new DemandMinute(_minute, _peak, _inFlightCount > 0 ? _inFlightSum / _inFlightCount : null);
                HistoryAt(now).Add(completed.Minute, completed.Needed);
                store?.Enqueue(backend, completed);
            }

            (_minute, _peak, _inFlightSum, _inFlightCount) = (minute, needed, 0, 0);
        }

        _peak = Math.Max(_peak, needed);
        if (inFlight is { } measured)
        {
            _inFlightSum += measured;
            _inFlightCount++;
        }
    }

    /// <summary>The forecast at <paramref name="now"/> (computed once a minute), or <see langword="null"/> when off or without history.</summary>
    public ForecastStatus? At(DateTimeOffset now)
    {
        if (_options.Mode == ForecastMode.Off)
        {
            return null;
        }

        long minute = DemandHistory.MinuteOf(now);
        if (minute == _forecastMinute)
        {
            return _current;
        }

        _forecastMinute = minute;
        TimeSpan lead = Lead;
        long to = DemandHistory.MinuteOf(now + lead);
        _current = ForecastRule.Forecast(HistoryAt(now), minute, to, _options) is ({ } servers, int days)
            ? new ForecastStatus(_options.Mode, servers, lead, days, string.Create(CultureInfo.InvariantCulture,
                $"forecast floor of {servers} (p{_options.Percentile} of {days} past days' peaks at {now.UtcDateTime:HH:mm}–{(now + lead).UtcDateTime:HH:mm} UTC ±{Durations.Format(_options.Spread)}, {Durations.Format(lead)} ahead)"))
            : null;
        return _current;
    }

    /// <summary>
    /// What is worth a log line since the last call: the note of reading the history (once), and the forecast when
    /// its servers changed (or it appeared or ended: <see langword="null"/> servers then means none).
    /// </summary>
    public (string? LoadNote, ForecastStatus? Changed, bool Ended) TakeNews()
    {
        string? note = LoadNote;
        LoadNote = null;
        ForecastStatus? current = Current;
        int servers = current?.Servers ?? -1;
        if (servers == _reported)
        {
            return (note, null, false);
        }

        bool ended = current is null && _reported >= 0;
        _reported = servers;
        return (note, current, ended);
    }

    /// <summary>The forecast now as shown (explain, status, metric): the last one computed, if still of this minute's mode.</summary>
    public ForecastStatus? Current => _options.Mode == ForecastMode.Off ? null : _current;

    private DemandHistory HistoryAt(DateTimeOffset now)
    {
        if (_history is null)
        {
            if (store is null)
            {
                _history = new DemandHistory();
            }
            else
            {
                (_history, int skipped, string? error) = store.Load(backend, now);
                LoadNote = error is not null
                    ? $"could not read its demand history ({error}): starting without"
                    : $"read {_history.Count.ToString(CultureInfo.InvariantCulture)} minutes of demand history" + (skipped > 0 ? $", skipped {skipped.ToString(CultureInfo.InvariantCulture)} damaged or stale records" : "");
            }
        }

        return _history;
    }
}
