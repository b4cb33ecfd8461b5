using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// One evaluation interval's requests, turned into the context's arrival rate, in-flight (Little's law: the sum of
/// the ended requests' total times ÷ the interval, queued time included: queued requests are demand too) and demand.
/// Not thread-safe: callers hold the backend's lock.
/// </summary>
/// <remarks>
/// A struct held in the decider's own fields (never copied out of them): a line adds to it, and at 10,000 backends an
/// object of its own would be one more cache miss per line.
/// </remarks>
internal struct IntervalStatistics(DateTimeOffset start)
{
    private DateTimeOffset _lastEvaluation = start;
    private int _requests;
    private int _timedRequests;
    private long _sumTotalMs;
    private long _sumQueueMs;

    /// <summary>Counts a logged request; returns whether it was timed (it reached a server and has a total time).</summary>
    public bool Add(in RequestRecord record)
    {
        _requests++;
        if (record.HasNoServer || record.TotalTime < 0)
        {
            return false;
        }

        _timedRequests++;
        _sumTotalMs += record.TotalTime;
        _sumQueueMs += Math.Max(0, record.QueueTime);
        return true;
    }

    /// <summary>
    /// The interval's arrival rate, in-flight and demand (<paramref name="serving"/>: the active servers; zero, none and
    /// none for an interval of no time), then a new interval. Figures, not a context: the decider makes its context once.
    /// </summary>
    public (double ArrivalRate, double? InFlight, int? DemandServers) Take(DateTimeOffset now, int serving)
    {
        double seconds = (now - _lastEvaluation).TotalSeconds;
        _lastEvaluation = now;
        (double, double?, int?) figures = seconds > 0
            ? (_requests / seconds,
                _timedRequests > 0 ? _sumTotalMs / 1000.0 / seconds : null,
                _sumQueueMs > 0 && serving > 0 ? (int)Math.Ceiling(serving * (double)_sumTotalMs / Math.Max(1, _sumTotalMs - _sumQueueMs)) : null)
            : (0, null, null);
        (_requests, _timedRequests, _sumTotalMs, _sumQueueMs) = (0, 0, 0, 0);
        return figures;
    }
}
