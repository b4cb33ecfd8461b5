namespace HaproxyAutoscale.Scaling;

/// <summary>What a decider hands to the one a reload replaces it with.</summary>
internal sealed partial class BackendDecider
{
    /// <summary>Samples the window took since the start (the refill rule), carried over by a reload that keeps the window.</summary>
    public long SamplesTaken { get; private set; }

    /// <summary>
    /// Carries what <paramref name="previous"/> learned into this decider, made from the backend's new options: the
    /// requests seen (log coverage compares them with HAProxy's counters), the current evaluation interval, and,
    /// when the reload kept the window (its samples), the start and the refill rule; when it kept the behaviour, its
    /// stabilization history. A new window refills from now, as after a start. Call under the backend's lock.
    /// </summary>
    public void ContinueFrom(BackendDecider previous, bool windowKept, bool behaviorKept)
    {
        LastRequest = previous.LastRequest;
        LoggedRequests = previous.LoggedRequests;
        _interval = previous._interval;
        _saturated = previous._saturated;
        _newSamples = previous._newSamples;
        Forecast = previous.Forecast; // the history and lead time outlive any reload
        Forecast?.Reconfigure(_options.Forecast);
        _capacity = previous._capacity; // what the servers are does not change with the options; the SLO may
        _capacity.Slo = _options.Slo.P95;
        if (windowKept)
        {
            _started = previous._started;
            SamplesTaken = previous.SamplesTaken;
            if (_counters is not null && previous._counters is not null)
            {
                _counters.ContinueFrom(previous._counters);
            }
        }

        if (behaviorKept)
        {
            _behavior = previous._behavior;
        }
    }
}
