using System.Globalization;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Capacity;

/// <summary>
/// Keeps one backend's server model up to date from the records its decider already receives: the fit
/// <c>simulate --fit</c> makes (<see cref="BackendModelFit"/>: the service time of requests alone on their server,
/// the workers by <see cref="WorkerCountFit"/>), on a <see cref="CapacityTally"/> that decays with a half-life instead
/// of growing. No timer: the decider calls <see cref="Refresh"/> at each evaluation, which refits every
/// <see cref="CapacityLearningSettings.RefreshEvery"/>. Not thread-safe: callers hold the backend's lock.
/// </summary>
/// <remarks>
/// Drift: the requests of each generation (30 s) are tallied apart as well. When their mean service time differs from
/// the model's by more than <see cref="CapacityLearningSettings.DriftThreshold"/> generation after generation for
/// <see cref="CapacityLearningSettings.DriftFor"/>, the model starts again from the requests since the move (a deploy
/// made the app slower or faster): it follows within about that time plus a refresh, not a half-life.
/// </remarks>
internal sealed class CapacityLearner
{
    private readonly CapacityLearningSettings _settings;
    private readonly CapacityTally _tally = new(); // the decayed figures, and the generation's beside them
    private readonly List<(int C, long N, double Mean)> _levels = [];
    private CapacityTally? _moved; // the generations since the service time moved, while it stays moved
    private DateTimeOffset? _movedSince;
    private double _movedFrom;
    private DateTimeOffset _lastRefresh;
    private DateTimeOffset _generationStart;
    private DateTimeOffset? _driftedAt;
    private string? _drift;
    private readonly ModelSlot _current = ModelSlot.Take();

    public CapacityLearner(DateTimeOffset now, TimeSpan? slo, CapacityLearningSettings? settings = null)
    {
        _settings = settings ?? CapacityLearningSettings.Default;
        Slo = slo;
        (_lastRefresh, _generationStart) = (now, now);
    }

    /// <summary>The p95 without <c>slo.p95</c>: 200 ms, or twice the service time's p95 when that is more (see <c>SloOptions.P95</c>).</summary>
    internal const double DefaultSloMs = 200;

    /// <summary>The backend's <c>slo.p95</c> (a reload may change it); <see langword="null"/>: the default (<see cref="DefaultSloMs"/>).</summary>
    public TimeSpan? Slo { get; set; }

    /// <summary>The model as of the last refit, or <see langword="null"/> before any request with a response time.</summary>
    public LearnedCapacity? Current => _current.Value;

    /// <summary>Whether requests were added since <see cref="TakeChanged"/> was last called (the model is then worth saving).</summary>
    public bool Changed { get; private set; }

    /// <summary>Whether <see cref="CapacityStore"/> last logged the model as confident.</summary>
    internal bool ReportedConfident { get; set; }

    /// <summary>The drift <see cref="CapacityStore"/> last logged.</summary>
    internal DateTimeOffset? ReportedDrift { get; set; }

    /// <summary>When <see cref="CapacityStore"/> last wrote the model.</summary>
    internal DateTimeOffset LastSaved { get; set; }

    /// <summary>The decayed tally, for the state file.</summary>
    internal CapacityTally Tally => _tally;

    /// <summary>Asks the CPU for what <see cref="Add"/> will touch for <paramref name="record"/> (see <see cref="Scaling.LogLineRouter"/>).</summary>
    public void Prefetch(in RequestRecord record)
    {
        Scaling.CacheHints.Prefetch(this);
        _tally.Prefetch(record.ServerConnections + 1);
    }

    /// <summary>Counts a logged request that reached a server (TCP lines and <c>&lt;NOSRV&gt;</c> ones teach nothing).</summary>
    public void Add(in RequestRecord record)
    {
        if (record.Kind != RequestKind.Http || record.HasNoServer)
        {
            return;
        }

        // HAProxy logs srv_conn once the request left its server: its concurrency, itself included, is one more.
        int concurrency = record.ServerConnections + 1;
        bool queued = record.QueueTime > 0;
        _tally.Add(concurrency, record.ResponseTime, queued); // the generation's figures too
        Changed = true;
    }

    /// <summary>Decays, checks for drift and refits when a refresh is due; cheap otherwise.</summary>
    public void Refresh(DateTimeOffset now)
    {
        TimeSpan elapsed = now - _lastRefresh;
        if (elapsed < _settings.RefreshEvery)
        {
            return;
        }

        _lastRefresh = now;
        _tally.Decay((float)Math.Pow(0.5, elapsed / _settings.HalfLife));
        if (now - _generationStart >= _settings.Generation)
        {
            CheckDrift(now);
            _tally.ClearGeneration();
            _generationStart = now;
        }

        _current.Set(Fit(now)); // mostly the same model, kept
    }

    /// <summary>
    /// Moves this learner's refreshes (and drift generations) earlier by <paramref name="ordinal"/> evaluation
    /// intervals, modulo a refresh: backends made together refit at different evaluations instead of all at one every
    /// <see cref="CapacityLearningSettings.RefreshEvery"/> (at ten thousand backends that one was the slowest pass).
    /// The first backend (ordinal 0) keeps the plain schedule.
    /// </summary>
    public void Stagger(int ordinal, TimeSpan evaluationInterval)
    {
        long slots = Math.Max(1, _settings.RefreshEvery.Ticks / Math.Max(1, evaluationInterval.Ticks));
        var phase = TimeSpan.FromTicks(evaluationInterval.Ticks * (ordinal % slots));
        (_lastRefresh, _generationStart) = (_lastRefresh - phase, _generationStart - phase);
    }

    /// <summary>Whether the model changed since the last call (and clears it).</summary>
    public bool TakeChanged()
    {
        bool changed = Changed;
        Changed = false;
        return changed;
    }

    /// <summary>Takes a saved tally (a restart) and refits at once, so the model is there before the first refresh.</summary>
    public void Restore(CapacityTally saved, DateTimeOffset now)
    {
        _tally.CopyFrom(saved);
        _current.Set(Fit(now));
    }

    private void CheckDrift(DateTimeOffset now)
    {
        // Compared over the same low concurrencies: those that give the generation enough requests.
        int limit = _tally.LowLimit(_settings.MinDriftSamples, CapacityTally.Generation);
        (double recentCount, double recentMean) = _tally.Low(limit, CapacityTally.Generation);
        (double count, double mean) = _tally.Low(limit);
        bool moved = recentCount >= _settings.MinDriftSamples && count >= _settings.MinServiceSamples && mean > 0
            && Math.Abs((recentMean / mean) - 1) > _settings.DriftThreshold;
        if (!moved)
        {
            _movedSince = null;
            return;
        }

        if (_movedSince is null)
        {
            (_moved ??= new CapacityTally()).CopyFrom(_tally, CapacityTally.Generation);
            (_movedSince, _movedFrom) = (_generationStart, mean);
        }
        else
        {
            _moved!.AddFrom(_tally, CapacityTally.Generation);
        }

        if (now - _movedSince.Value >= _settings.DriftFor)
        {
            _tally.CopyFrom(_moved!);
            _driftedAt = now;
            _drift = string.Create(CultureInfo.InvariantCulture, $"service time {_movedFrom:0.#} ms → {recentMean:0.#} ms");
            _movedSince = null;
        }
    }

    private LearnedCapacity? Fit(DateTimeOffset now)
    {
        int limit = _tally.LowLimit(_settings.MinServiceSamples);
        (double count, double mean) = _tally.Low(limit);
        if (count <= 0.5)
        {
            return null;
        }

        bool widened = limit > 1;
        double p95 = _tally.QuantileMs(95, widened);
        _levels.Clear();
        double samples = 0;
        for (int c = 1; c <= CapacityTally.MaxConcurrency; c++)
        {
            float n = _tally.CountAt(c);
            samples += n;
            if (n >= BackendModelFit.MinBucketSamples)
            {
                _levels.Add((c, (long)Math.Round(n), _tally.SumAt(c) / n));
            }
        }

        int? maxConn = MaxConn();
        // Two concurrencies always fit exactly (one point each side of k), so noise would pass for saturation: the
        // fit is trusted from MinLevels on.
        bool enoughLevels = _levels.Count >= _settings.MinLevels;
        double? saturating = enoughLevels && mean > 0 ? WorkerCountFit.SaturatingWorkers(_levels, mean) : null;

        // Unsaturated, the log shows no limit below the highest concurrency seen often enough: a lower bound, so the
        // capacity is under-stated rather than over (never more than maxconn lets in).
        double workers = saturating ?? Math.Min(_levels.Count > 0 ? _levels[^1].C : 1, maxConn ?? int.MaxValue);
        bool enoughService = count >= _settings.MinServiceSamples;
        double sloMs = Slo?.TotalMilliseconds ?? Math.Max(DefaultSloMs, 2 * p95);
        (double perServer, bool reachable) = ServerThroughput.AtSlo(workers, mean, p95, sloMs, _tally.SquaredVariation(widened));
        if (Current is { } current && current.Workers.Equals(workers) && current.Saturated == saturating is not null && current.MaxConn == maxConn
            && Close(current.ServiceMeanMs, mean, 0.001) && Close(current.ServiceP95Ms, p95, 0.001) && Close(current.Samples, samples, 0.25)
            && current.Confident == (enoughService && enoughLevels) && current.SloP95Ms.Equals(sloMs) && Close(current.PerServerAtSlo, perServer, 0.001)
            && current.SloReachable == reachable && current.DriftedAt == _driftedAt && current.Drift == _drift)
        {
            // The same model: kept, not made again. At ten thousand backends a new one at every refit (a thousand an
            // evaluation), held by every learner, made each young collection scan them all.
            return current;
        }

        string alone = widened ? string.Create(CultureInfo.InvariantCulture, $"at concurrency <= {limit}") : "alone on their server";
        string basis = (enoughService, enoughLevels) switch
        {
            (false, _) => string.Create(CultureInfo.InvariantCulture, $"only {count:0} requests {alone}, {_settings.MinServiceSamples} wanted"),
            (true, false) => string.Create(CultureInfo.InvariantCulture, $"response times at only {_levels.Count} concurrencies with {BackendModelFit.MinBucketSamples}+ requests, {_settings.MinLevels} wanted"),
            _ when saturating is not null => string.Create(CultureInfo.InvariantCulture, $"{samples:0} requests at {_levels.Count} concurrencies; response times grow past {workers:0.##} at once"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{samples:0} requests at {_levels.Count} concurrencies; never saturated, so at least {workers:0.##} workers"),
        };
        return new LearnedCapacity
        {
            Workers = workers,
            Saturated = saturating is not null,
            MaxConn = maxConn,
            ServiceMeanMs = mean,
            ServiceP95Ms = p95,
            Samples = samples,
            Confident = enoughService && enoughLevels,
            Basis = basis,
            Updated = now,
            DriftedAt = _driftedAt,
            Drift = _drift,
            SloP95Ms = sloMs,
            PerServerAtSlo = perServer,
            SloReachable = reachable,
        };
    }

    // Within `relative` of each other. The samples' count moves at every refit (it grows for the first half-hour, ~7 % a
    // refit in its first minutes): within 25 % it is the same model.
    private static bool Close(double kept, double now, double relative) => Math.Abs(kept - now) <= relative * Math.Max(Math.Abs(kept), Math.Abs(now));

    // As the log fit: the largest concurrency at least 5 % of the queued requests logged.
    private int? MaxConn()
    {
        double queued = 0;
        for (int c = 0; c <= CapacityTally.MaxConcurrency; c++)
        {
            queued += _tally.QueuedAt(c);
        }

        if (queued < 1)
        {
            return null;
        }

        for (int c = CapacityTally.MaxConcurrency; c > 1; c--)
        {
            if (_tally.QueuedAt(c) >= 0.05 * queued)
            {
                return c;
            }
        }

        return 1;
    }
}

/// <summary>How <see cref="CapacityLearner"/> learns; the defaults are the daemon's, tests shorten the times.</summary>
internal sealed record CapacityLearningSettings
{
    public static readonly CapacityLearningSettings Default = new();

    /// <summary>How often the model is decayed and refitted.</summary>
    public TimeSpan RefreshEvery { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>After this long a request weighs half.</summary>
    public TimeSpan HalfLife { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The drift check compares each such period's requests with the model.</summary>
    public TimeSpan Generation { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>A service time this much above or below the model's (0.3: 30 %) has moved.</summary>
    public double DriftThreshold { get; init; } = 0.3;

    /// <summary>Moved for this long: the model starts again from the requests since.</summary>
    public TimeSpan DriftFor { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests at low concurrency the service time needs (as the log fit's).</summary>
    public int MinServiceSamples { get; init; } = BackendModelFit.MinServiceSamples;

    /// <summary>A generation's requests that a drift check needs.</summary>
    public int MinDriftSamples { get; init; } = 20;

    /// <summary>Concurrencies with 20+ requests that a model needs to be confident (and the worker fit to be trusted).</summary>
    public int MinLevels { get; init; } = 3;
}
