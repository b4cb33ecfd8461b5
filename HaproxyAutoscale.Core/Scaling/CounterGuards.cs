using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The rules that go by HAProxy's counters where they are read (the daemon): idle time counted from them too, the
/// blind fallback (a blind backend's policy sees HAProxy's own view, or it holds), and the guards on scale-down (not
/// while blind, not on stale counters, not before the window has refilled since the start or a takeover). Not
/// thread-safe: callers hold the backend's lock.
/// </summary>
/// <remarks>
/// The samples the backend's window took are counted by <paramref name="decider"/> per line, in its own fields: at
/// 10,000 backends a counter here would be one more cache miss per line.
/// </remarks>
internal sealed class CounterGuards(BackendOptions options, LogCoverage coverage, BlindFallback fallback, DateTimeOffset start, BackendDecider decider)
{
    private DateTimeOffset? _lastReadingUsed;
    private DateTimeOffset _refillFrom = start; // where the refill rule counts from: the start, or gaining the leadership (ha)
    private long _samplesBeforeRefill; // the decider's SamplesTaken when the refill rule started counting

    /// <summary>Continues the refill rule of <paramref name="previous"/> (a reload kept the backend's window and its samples).</summary>
    public void ContinueFrom(CounterGuards previous)
    {
        _lastReadingUsed = previous._lastReadingUsed;
        _refillFrom = previous._refillFrom;
        _samplesBeforeRefill = previous._samplesBeforeRefill; // the decider carries its count over with the window
    }

    /// <summary>Makes the refill rule count from <paramref name="now"/>, as after a start.</summary>
    public void RestartRefill(DateTimeOffset now)
    {
        _refillFrom = now;
        _samplesBeforeRefill = decider.SamplesTaken;
    }

    /// <summary>
    /// Sets <paramref name="context"/> as the policy should see it (a backend is idle only when HAProxy saw no request
    /// either; a blind one sees HAProxy's counters); returns a hold's reason when a blind backend holds
    /// (<c>blindFallback: hold</c>), otherwise <see langword="null"/>. In place: the context is copied once, not per rule.
    /// </summary>
    public string? Adjust(ref ScalingContext context)
    {
        DateTimeOffset? lastRequest = BehaviorGate.Latest(context.LastRequest, coverage.LastCountedRequest);
        (int? openSessions, double? inFlight) = (context.OpenSessions, context.InFlight);
        if (coverage.Stat is { } stat && !coverage.IsStale(context.Now))
        {
            // Little's law sees a request only once it ended: open sessions are in flight now (max, not a sum: in
            // steady traffic both count the same requests). At zero they are requests the Lua hold keeps: its wake
            // lines size that scale-up (Wakes), the policy does not race them.
            int open = stat.CurrentSessions + stat.CurrentQueue;
            bool serving = context.ActiveServers > 0;
            (openSessions, inFlight) = (open, open > 0 && serving ? Math.Max(context.InFlight ?? 0, open) : context.InFlight);
        }

        context = context with { LastRequest = lastRequest, OpenSessions = openSessions, InFlight = inFlight };
        if (!coverage.Blind)
        {
            return null;
        }

        if (fallback == BlindFallback.Hold)
        {
            return $"blind (coverage {Ratio(coverage.Coverage)}): holding until the logs are back";
        }

        context = FromCounters(context);
        return null;
    }

    /// <summary>The rule that holds a scale-down back now, and why; or <see langword="null"/>.</summary>
    public (HoldGate Rule, string Why)? DownHeldBy(DateTimeOffset now, in ScalingContext context)
    {
        if (coverage.Blind)
        {
            return (HoldGate.Blind, $"blind (coverage {Ratio(coverage.Coverage)}): no scale-down until the logs are back");
        }

        if (coverage.IsStale(now))
        {
            return (HoldGate.Counters, "HAProxy's counters could not be read lately: no scale-down without them");
        }

        return context.Window.HasValue && !IsRefilled(now) ? (HoldGate.Refilling, "the window is still refilling since the start") : null;
    }

    // A blind backend's policy sees HAProxy's own view: rtime (average of the last 1,024 requests) as the window
    // value, fresh once per counter reading; queued requests or new errors as saturation; sessions and queue as in-flight.
    private ScalingContext FromCounters(ScalingContext context)
    {
        BackendCounters? stat = coverage.Stat;
        bool fresh = coverage.LastReading != _lastReadingUsed;
        _lastReadingUsed = coverage.LastReading;
        int milliseconds = stat is { } row ? row.ResponseTimeMs + (options.Window.Timer == ResponseTimer.Tr ? 0 : row.QueueTimeMs) : 0;
        return context with
        {
            Window = stat is null ? WindowValue.Empty : new WindowValue(milliseconds, 1),
            InFlight = fresh && stat is { } now ? now.CurrentSessions + now.CurrentQueue : null, // scur + qcur: in flight now
            NewSamples = fresh ? 1 : 0,
            Saturated = context.Saturated || (fresh && (stat?.CurrentQueue > 0 || coverage.ErrorsGrew)),
        };
    }

    // Whether the window holds a full window's worth of samples taken since the start.
    private bool IsRefilled(DateTimeOffset now) => options.Window.Kind.ToLowerInvariant() switch
    {
        WindowKinds.Count => decider.SamplesTaken - _samplesBeforeRefill >= options.Window.Size,
        WindowKinds.Time => now - _refillFrom >= options.Window.Duration,
        WindowKinds.Ewma => now - _refillFrom >= 3 * options.Window.HalfLife,
        _ => decider.SamplesTaken - _samplesBeforeRefill > 0 && now - _refillFrom >= options.SettleTime, // a custom window: no size to go by
    };

    private static string Ratio(double? value) => value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-";
}
