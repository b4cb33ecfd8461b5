using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>One evaluation's outcome for a backend: the decision and the servers it names.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Time">When it was decided.</param>
/// <param name="Decision">The policy's decision, within bounds and the engine's rules.</param>
/// <param name="Servers">The servers to enable (up) or drain (down); empty for hold.</param>
/// <param name="Window">The window's value at the decision.</param>
/// <param name="HasFreshData">Whether the window had new samples since the previous evaluation.</param>
/// <param name="HeldBy">The engine rule that turned the policy's decision into a hold, or <see langword="null"/>.</param>
internal sealed record ScalingPlan(string Backend, DateTimeOffset Time, ScalingDecision Decision, IReadOnlyList<string> Servers, WindowValue Window, bool HasFreshData, string? HeldBy = null)
{
    /// <summary>This plan turned into a hold by an engine rule (pause, blindness…), with the rule named in the reason.</summary>
    public ScalingPlan HeldByRule(string rule, string why) => Decision.Action == ScalingAction.Hold
        ? this
        : this with { Decision = ScalingDecision.Hold($"{Decision.Reason}, but {why}"), Servers = [], HeldBy = rule };

    /// <summary>The plan as reported in <see cref="BackendSnapshot.LastDecision"/>.</summary>
    public BackendDecision ToDecision() => new(Time, Decision.Action, Servers, Decision.Reason, HeldBy);
}

/// <summary>
/// Decides for one backend: records feed its window, an evaluation asks its policy, applies the rules common to every
/// policy (bounds, settle time, back-off) and picks the servers. Pure: no I/O, time from the <see cref="TimeProvider"/>;
/// it reads the servers' roles and never changes them. An exception from the window or the policy is contained
/// here (a hold that says why) and handed to the engine through <see cref="TakeFault"/>. Not thread-safe: callers
/// hold the backend's lock.
/// </summary>
internal sealed class BackendDecider
{
    private readonly BackendOptions _options;
    private readonly IScalingPolicy _policy;
    private readonly ServerTable _servers;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly DateTimeOffset _started;
    private DateTimeOffset _refillFrom; // where the refill rule counts from: the start, or gaining the leadership (ha)
    private readonly LogCoverage? _coverage;
    private readonly BlindFallback _fallback;
    private DateTimeOffset? _lastReadingUsed;
    private long _samplesSinceStart;
    private bool _saturated;
    private int _newSamples;
    private DecisionFault? _fault;

    // coverage: HAProxy's counters for the backend (the daemon); null where there are none (replay, tests).
    public BackendDecider(BackendOptions options, IScalingPolicy policy, IResponseTimeWindow window, ServerTable servers, TimeProvider time, Random? random = null,
        LogCoverage? coverage = null, BlindFallback fallback = BlindFallback.Stat)
    {
        _coverage = coverage;
        _fallback = fallback;
        _options = options;
        _policy = policy;
        Window = window;
        _servers = servers;
        _time = time;
        _random = random ?? Random.Shared;
        _started = time.GetUtcNow();
        _refillFrom = _started;
    }

    public IResponseTimeWindow Window { get; }

    public IScalingPolicy Policy => _policy;

    public DateTimeOffset? LastRequest { get; private set; }

    /// <summary>Requests of this backend parsed from the logs since the start (compared with HAProxy's counters).</summary>
    public long LoggedRequests { get; private set; }

    /// <summary>
    /// Makes the refill rule count from now, as after a start: a standby that takes over may not scale down before its
    /// window has refilled under its leadership.
    /// </summary>
    public void RestartRefill()
    {
        _refillFrom = _time.GetUtcNow();
        _samplesSinceStart = 0;
    }

    public void OnRecord(in RequestRecord record)
    {
        DateTimeOffset now = _time.GetUtcNow();
        LastRequest = now;
        LoggedRequests++;
        if ((record.HasNoServer && record.StatusCode == 503) || record.QueueTime > 0)
        {
            _saturated = true;
        }

        // A server that just came up answers slowly at first: its samples would trigger another scale-up.
        if (record.HasNoServer || _servers.IsSettling(record.Server, now))
        {
            return;
        }

        int sample = ResponseTimeWindows.SampleOf(record, _options.Window.Timer);
        if (sample < 0)
        {
            return;
        }

        try
        {
            Window.Add(sample);
            _newSamples++;
            _samplesSinceStart++;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Per line: remember it, the engine reports it once per evaluation instead of once per line.
            Fault("window", e);
        }
    }

    /// <summary>The first exception from the window or policy since the last call, and how many there were.</summary>
    public DecisionFault? TakeFault()
    {
        DecisionFault? fault = _fault;
        _fault = null;
        return fault;
    }

    public ScalingPlan Decide()
    {
        DateTimeOffset now = _time.GetUtcNow();
        WindowValue window;
        ScalingDecision decision;
        try
        {
            window = Window.Evaluate();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fault("window", e);
            return Hold(now, WindowValue.Empty, $"the window failed ({e.GetType().Name}: {e.Message}): holding", fresh: false, "window error");
        }

        var context = new ScalingContext(_options.Name, now, window, _servers.Capacity, _options.EffectiveMinActive, _options.EffectiveMaxActive, _saturated, LastRequest, _started, _newSamples);
        _saturated = false;
        _newSamples = 0;
        if (_coverage is not null)
        {
            // A backend is idle only when HAProxy saw no request either.
            context = context with { LastRequest = Latest(context.LastRequest, _coverage.LastCountedRequest) };
            if (_coverage.Blind)
            {
                if (_fallback == BlindFallback.Hold)
                {
                    return Hold(now, window, $"blind (coverage {Ratio(_coverage.Coverage)}): holding until the logs are back", context.HasFreshData, "blind");
                }

                context = FromCounters(context, _coverage);
            }
        }

        try
        {
            decision = _policy.Decide(context).WithinBounds(context);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fault("policy", e);
            return Hold(now, window, $"the policy failed ({e.GetType().Name}: {e.Message}): holding", context.HasFreshData, "policy error");
        }

        string? heldBy = null;
        if (decision.Action == ScalingAction.Down && DownHeldBy(now, context) is { } held)
        {
            decision = ScalingDecision.Hold($"{decision.Reason}, but {held.Why}");
            heldBy = held.Rule;
        }

        if (decision.Action == ScalingAction.Up && Settling(now) is { } settling)
        {
            // The capacity just added is not serving yet (or its effect is not in the window yet): the breach that
            // called for it must not call for another server.
            decision = ScalingDecision.Hold($"{decision.Reason}, but waiting for {settling}");
            heldBy = "settle";
        }

        IReadOnlyList<string> servers = decision.Action switch
        {
            ScalingAction.Up => Pick(ServerRole.Parked, decision.Servers, first: true, now),
            ScalingAction.Down => Pick(ServerRole.Active, decision.Servers, first: false, now),
            _ => [],
        };

        if (servers.Count == 0 && decision.Action != ScalingAction.Hold)
        {
            decision = ScalingDecision.Hold($"{decision.Reason}, but no server can move");
            heldBy = "selection";
        }

        return new ScalingPlan(_options.Name, now, decision, servers, window, context.HasFreshData, heldBy);
    }

    // A blind backend's policy sees HAProxy's own view: rtime (average of the last 1,024 requests) as the window
    // value, fresh once per counter reading; queued requests or new errors as saturation.
    private ScalingContext FromCounters(ScalingContext context, LogCoverage coverage)
    {
        BackendStat? stat = coverage.Stat;
        bool fresh = coverage.LastReading != _lastReadingUsed;
        _lastReadingUsed = coverage.LastReading;
        int milliseconds = stat is null ? 0 : stat.ResponseTimeMs + (_options.Window.Timer == ResponseTimer.Tr ? 0 : stat.QueueTimeMs);
        return context with
        {
            Window = stat is null ? WindowValue.Empty : new WindowValue(milliseconds, 1),
            NewSamples = fresh ? 1 : 0,
            Saturated = context.Saturated || (fresh && (stat?.CurrentQueue > 0 || coverage.ErrorsGrew)),
        };
    }

    // The engine's guards on scale-down where HAProxy's counters are read (the daemon): not while blind, not on stale
    // counters, and after a start not before the window has refilled (an idle backend's empty window goes by the
    // idle rule, which counts idle time from HAProxy's counters too).
    private (string Rule, string Why)? DownHeldBy(DateTimeOffset now, in ScalingContext context)
    {
        if (_coverage is null)
        {
            return null;
        }

        if (_coverage.Blind)
        {
            return ("blind", $"blind (coverage {Ratio(_coverage.Coverage)}): no scale-down until the logs are back");
        }

        if (_coverage.IsStale(now))
        {
            return ("counters", "HAProxy's counters could not be read lately: no scale-down without them");
        }

        return context.Window.HasValue && !IsRefilled(now) ? ("refilling", "the window is still refilling since the start") : null;
    }

    // Whether the window holds a full window's worth of samples taken since the start.
    private bool IsRefilled(DateTimeOffset now) => _options.Window.Kind.ToLowerInvariant() switch
    {
        WindowKinds.Count => _samplesSinceStart >= _options.Window.Size,
        WindowKinds.Time => now - _refillFrom >= _options.Window.Duration,
        WindowKinds.Ewma => now - _refillFrom >= 3 * _options.Window.HalfLife,
        _ => _samplesSinceStart > 0 && now - _refillFrom >= _options.SettleTime, // a custom window: no size to go by
    };

    private static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static string Ratio(double? value) => value is { } v ? v.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "-";

    private ScalingPlan Hold(DateTimeOffset now, WindowValue window, string reason, bool fresh, string heldBy) =>
        new(_options.Name, now, ScalingDecision.Hold(reason), [], window, fresh, heldBy);

    private void Fault(string extension, Exception e) =>
        _fault = _fault is { } pending ? pending with { Count = pending.Count + 1 } : new DecisionFault(extension, e, 1);

    private string? Settling(DateTimeOffset now)
    {
        foreach ((string server, ServerRole role) in _servers.Roles)
        {
            if (role == ServerRole.Warming)
            {
                return $"{server} to warm up";
            }

            if (_servers.IsSettling(server, now))
            {
                return $"{server} to settle";
            }
        }

        return null;
    }

    // Ordered: the first parked server in configuration order goes up, the last active one goes down; never an
    // alwaysUp server down, never a server in its failure back-off up.
    private List<string> Pick(ServerRole role, int count, bool first, DateTimeOffset now)
    {
        List<string> candidates = [.. _options.Servers
            .Where(s => _servers.RoleOf(s.Name) == role && _servers.IsAvailable(s.Name, now) && !(role == ServerRole.Active && s.AlwaysUp))
            .Select(s => s.Name)];
        if (_options.Selection == ServerSelection.Random)
        {
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
        }
        else if (!first)
        {
            candidates.Reverse();
        }

        return candidates.Take(count).ToList();
    }
}

/// <summary>An exception an extension (window or policy) threw while deciding, and how many times since last reported.</summary>
internal sealed record DecisionFault(string Extension, Exception Exception, int Count);
