using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// Per-second books of a simulation: arrivals, completions and their latencies, the servers in service and the
/// oracle's, summed into the latency, cost and SPEC RG elasticity metrics of <see cref="BackendSimulation"/>.
/// </summary>
internal sealed class SimulationAccounting
{
    private readonly BackendOptions _backend;
    private readonly SimulationOptions _options;
    private readonly double _sloMs;
    private readonly double _workSecondsPerRequest;
    private readonly bool _sloReachable;
    private readonly LatencyHistogram _latencies = new();
    private readonly List<int> _secondLatencies = [];
    private readonly List<SimulationSecond> _timeline = [];
    private long _last;
    private long _secondStart;
    private int _secondArrivals;
    private long _requests;
    private long _overSlo;
    private int _maxLatency;
    private long _violationSeconds;
    private long _seconds;
    private double _serverMs;
    private double _zeroMs;
    private double _oracleSeconds;
    private double _under, _over, _underTime, _overTime, _unstable;
    private int _previousSupply = -1, _previousDemand = -1;

    public SimulationAccounting(BackendOptions backend, BackendModel model, SimulationOptions options)
    {
        _backend = backend;
        _options = options;
        _sloMs = options.Slo.TotalMilliseconds;
        double meanServiceMs = model.ServiceTimeQuantilesMs.Count == 0 ? 0 : model.ServiceTimeQuantilesMs.Average();
        _workSecondsPerRequest = meanServiceMs / 1000 / model.Workers;
        _sloReachable = model.ServiceTimeQuantilesMs.Count > 95 && model.ServiceTimeQuantilesMs[95] <= _sloMs;
    }

    public void Start(long start, int capacity)
    {
        _last = _secondStart = start;
        _previousSupply = capacity;
    }

    public void Arrival(long now) => _secondArrivals++;

    public void Completed(long now, int latencyMs)
    {
        _requests++;
        _latencies.Add(latencyMs);
        _maxLatency = Math.Max(_maxLatency, latencyMs);
        _overSlo += latencyMs > _sloMs ? 1 : 0;
        _secondLatencies.Add(latencyMs);
    }

    /// <summary>Time moves on to <paramref name="now"/>; <paramref name="capacity"/> servers served since the last call.</summary>
    public void Advance(long now, int capacity)
    {
        while (now >= _secondStart + 1000)
        {
            long end = _secondStart + 1000;
            _serverMs += capacity * (double)(end - _last);
            _zeroMs += capacity == 0 ? end - _last : 0;
            _last = end;
            CloseSecond(capacity);
        }

        _serverMs += capacity * (double)(now - _last);
        _zeroMs += capacity == 0 ? now - _last : 0;
        _last = now;
    }

    /// <summary>Seconds so far with no server active or warming.</summary>
    public double ZeroSeconds => _zeroMs / 1000;

    public void Finish(int capacity)
    {
        if (_secondArrivals > 0 || _secondLatencies.Count > 0)
        {
            Advance(_secondStart + 1000, capacity);
        }
    }

    public BackendSimulation Result(string policy, int flaps, long coldStarts)
    {
        double seconds = Math.Max(1, _seconds);
        // A percentile that falls on failed requests (recorded as int.MaxValue) is reported as int.MaxValue, not as
        // the histogram bucket's lower bound.
        int failedBucketBound = LatencyHistogram.LowerBoundOf(LatencyHistogram.BucketOf(int.MaxValue));
        int? Percentile(double p) => _requests == 0 ? null : _latencies.Percentile(p, _requests, _maxLatency) is var v && v >= failedBucketBound ? int.MaxValue : v;
        return new BackendSimulation(
            _backend.Name, policy, _requests, _sloMs, Percentile(50), Percentile(95), Percentile(99),
            _requests == 0 ? 0 : (double)_overSlo / _requests, _violationSeconds, _serverMs / 1000, _oracleSeconds, flaps, coldStarts,
            new ProvisioningMetric(_under / seconds, _underTime / seconds), new ProvisioningMetric(_over / seconds, _overTime / seconds),
            _seconds < 2 ? 0 : _unstable / (_seconds - 1))
        {
            Timeline = _timeline,
        };
    }

    private void CloseSecond(int supply)
    {
        int demand = Oracle(_secondArrivals);
        int? p95 = null;
        if (_secondLatencies.Count > 0)
        {
            // Nearest rank over this second's completions.
            System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_secondLatencies).Sort();
            p95 = _secondLatencies[Math.Max(0, (int)Math.Ceiling(0.95 * _secondLatencies.Count) - 1)];
            _violationSeconds += p95 > _sloMs ? 1 : 0;
        }

        _seconds++;
        _oracleSeconds += demand;
        if (demand > supply)
        {
            _under += (double)(demand - supply) / demand;
            _underTime++;
        }
        else if (supply > demand)
        {
            _over += (double)(supply - demand) / demand;
            _overTime++;
        }

        if (_previousDemand >= 0 && Math.Sign(supply - _previousSupply) != Math.Sign(demand - _previousDemand))
        {
            _unstable++;
        }

        (_previousSupply, _previousDemand) = (supply, demand);
        if (_options.KeepTimeline)
        {
            _timeline.Add(new SimulationSecond(DateTimeOffset.FromUnixTimeMilliseconds(_secondStart), _secondArrivals, supply, demand, p95));
        }

        _secondStart += 1000;
        _secondArrivals = 0;
        _secondLatencies.Clear();
    }

    // The fewest servers that keep the model under the SLO for this second's arrivals: every server at or below its
    // k effective workers (where a request takes its service time, whose p95 is under the SLO), within the bounds.
    // When even an idle server's p95 is above the SLO, no count suffices: all of them.
    private int Oracle(int arrivals)
    {
        int servers = _backend.Servers.Count;
        if (!_sloReachable)
        {
            return servers;
        }

        int needed = (int)Math.Ceiling(arrivals * _workSecondsPerRequest);
        return Math.Clamp(needed, Math.Max(1, _backend.EffectiveMinActive), Math.Max(1, _backend.EffectiveMaxActive));
    }
}
