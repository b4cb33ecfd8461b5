using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// One backend's logs checked against HAProxy's own counters: coverage (requests logged ÷ requests counted, over the
/// last two counter readings), blindness (coverage below the minimum while HAProxy counts traffic), when HAProxy last
/// counted a request (so a backend is idle only when HAProxy saw no request either), and HAProxy's own signals for a
/// blind backend. Fed by the counter poller, read by the decider. Not thread-safe: callers hold the backend's lock.
/// </summary>
internal sealed class LogCoverage
{
    // Below this many counted requests over the coverage span, a low coverage is noise (a request counted when it
    // starts and logged when it ends), not evidence: the verdict stays as it was.
    private const int MinRequestsForVerdict = 10;

    // Coverage spans the last two intervals: a stall is seen within two readings, and one slow request's lag
    // between being counted and being logged does not swing it.
    private const int Readings = 3;

    private readonly AutoscaleOptions _options;
    private readonly Queue<(long Logged, long Counted)> _readings = new(Readings);
    private BackendCounters? _previous;

    public LogCoverage(AutoscaleOptions options) => _options = options;

    /// <summary>Logged ÷ counted over the span, or <see langword="null"/> while HAProxy counted nothing.</summary>
    public double? Coverage { get; private set; }

    /// <summary>HAProxy counts traffic the logs do not show: nothing scales the backend down.</summary>
    public bool Blind { get; private set; }

    /// <summary>Requests HAProxy counted over the coverage span (for messages).</summary>
    public long Counted { get; private set; }

    /// <summary>Requests logged over the coverage span (for messages).</summary>
    public long Logged { get; private set; }

    /// <summary>When a reading last showed HAProxy's request counter grow.</summary>
    public DateTimeOffset? LastCountedRequest { get; private set; }

    /// <summary>When the counters were last read, or <see langword="null"/> before the first reading.</summary>
    public DateTimeOffset? LastReading { get; private set; }

    /// <summary>HAProxy's latest backend row's counters.</summary>
    public BackendCounters? Stat => _previous;

    /// <summary>Whether connection, response or 5xx errors grew between the last two readings.</summary>
    public bool ErrorsGrew { get; private set; }

    /// <summary>Whether the counters are too old to vouch for anything (never read, or not for three intervals).</summary>
    public bool IsStale(DateTimeOffset now) => LastReading is not { } last || now - last > 3 * _options.CounterInterval;

    /// <summary>Takes a reading; returns whether blindness started (+1), ended (-1), or neither (0).</summary>
    /// <param name="now">The reading's time.</param>
    /// <param name="logged">Requests of this backend parsed from the logs since the start.</param>
    /// <param name="counted">HAProxy's backend row, summed over every instance.</param>
    public int Update(DateTimeOffset now, long logged, in BackendCounters counted)
    {
        if (_previous is { } previous)
        {
            if (counted.Requests < previous.Requests)
            {
                _readings.Clear(); // HAProxy restarted: its counters start again from 0
            }
            else if (counted.Requests > previous.Requests)
            {
                LastCountedRequest = now;
            }

            ErrorsGrew = counted.ConnectionErrors > previous.ConnectionErrors || counted.ResponseErrors > previous.ResponseErrors
                || counted.Responses5xx > previous.Responses5xx;
        }

        // A value, not an object: a new row held by every backend at each reading made each young collection scan
        // every backend (10,000 rows a reading at 10,000 backends).
        _previous = counted;
        LastReading = now;
        if (_readings.Count == Readings)
        {
            _readings.Dequeue();
        }

        _readings.Enqueue((logged, counted.Requests));
        (long oldestLogged, long oldestCounted) = _readings.Peek();
        Counted = counted.Requests - oldestCounted;
        Logged = logged - oldestLogged;
        Coverage = Counted > 0 ? Logged / (Counted * _options.Logs.SampleRatio) : null;

        bool wasBlind = Blind;
        if (Counted == 0)
        {
            Blind = false; // HAProxy saw no request either: nothing is missing
        }
        else if (Counted >= MinRequestsForVerdict)
        {
            Blind = Coverage < _options.Logs.MinCoverage;
        }

        return Blind == wasBlind ? 0 : Blind ? 1 : -1;
    }
}
