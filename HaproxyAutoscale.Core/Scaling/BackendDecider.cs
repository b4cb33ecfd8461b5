using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scheduling;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>One evaluation's outcome for a backend: the decision and the servers it names.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Time">When it was decided.</param>
/// <param name="Decision">The policy's decision, within bounds and the engine's rules.</param>
/// <param name="Servers">The servers to enable (up) or drain (down); empty for hold.</param>
/// <param name="Window">The window's value at the decision.</param>
/// <param name="HasFreshData">Whether the window had new samples since the previous evaluation.</param>
/// <param name="Gate">The engine rule that turned the policy's decision into a hold, or <see langword="null"/>.</param>
internal sealed record ScalingPlan(string Backend, DateTimeOffset Time, ScalingDecision Decision, IReadOnlyList<string> Servers, WindowValue Window, bool HasFreshData, HoldGate? Gate = null)
{
    /// <summary>The name of the rule that held it back (<see cref="Gate"/>), or <see langword="null"/>.</summary>
    public string? HeldBy => Gate?.Name;

    /// <summary>This plan turned into a hold by an engine rule (pause, blindness…), with the rule named in the reason.</summary>
    public ScalingPlan HeldByRule(HoldGate rule, string why) => Decision.Action == ScalingAction.Hold
        ? this
        : this with { Decision = ScalingDecision.Hold($"{Decision.Reason}, but {why}"), Servers = [], Gate = rule };

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
    private readonly BehaviorGate _behavior;
    private readonly ScheduledFloors _floors;
    private readonly bool _trackIdle;
    private DateTimeOffset _lastEvaluation;
    private int _intervalRequests;
    private int _timedRequests;
    private long _sumTotalMs;
    private long _sumQueueMs;
    private ScalingDecision? _actedOn; // the policy's last decision the plan carries out (told to the policy if held later)

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
        _lastEvaluation = _started;
        _behavior = new BehaviorGate(options.Behavior);
        _floors = ScheduledFloors.Create(options.Schedule);
        _trackIdle = options.Behavior.Down.MinIdleBeforePark > TimeSpan.Zero;
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

        // In-flight by Little's law over the evaluation interval: the sum of the ended requests' total times ÷ the
        // interval (queued time included: queued requests are demand too).
        _intervalRequests++;
        if (!record.HasNoServer && record.TotalTime >= 0)
        {
            _timedRequests++;
            _sumTotalMs += record.TotalTime;
            _sumQueueMs += Math.Max(0, record.QueueTime);
            if (_trackIdle)
            {
                _servers.NoteRequest(record.Server, now);
            }
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
        _actedOn = null;
        WindowValue window;
        try
        {
            window = Window.Evaluate();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fault("window", e);
            return Hold(now, WindowValue.Empty, $"the window failed ({e.GetType().Name}: {e.Message}): holding", fresh: false, HoldGate.WindowError);
        }

        // A scheduled floor raises the lower bound the policy sees (never above the upper one).
        (int floor, string? floorWhy) = _floors.IsEmpty ? (0, null) : _floors.At(now);
        int minActive = Math.Min(Math.Max(_options.EffectiveMinActive, floor), _options.EffectiveMaxActive);
        var context = new ScalingContext(_options.Name, now, window, _servers.Capacity, minActive, _options.EffectiveMaxActive, _saturated, LastRequest, _started, _newSamples)
        {
            LastScaleUpCompleted = _servers.LastUpCompleted,
            LastScaleDownCompleted = _servers.LastDownCompleted,
            Coverage = _coverage?.Coverage,
            Blind = _coverage?.Blind ?? false,
        };
        context = WithInterval(context, now);
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
                    return Hold(now, window, $"blind (coverage {Ratio(_coverage.Coverage)}): holding until the logs are back", context.HasFreshData, HoldGate.Blind);
                }

                context = FromCounters(context, _coverage);
            }
        }

        ScalingDecision asked;
        try
        {
            asked = _policy.Decide(context);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fault("policy", e);
            return Hold(now, window, $"the policy failed ({e.GetType().Name}: {e.Message}): holding", context.HasFreshData, HoldGate.PolicyError);
        }

        ScalingDecision decision = asked.WithinBounds(context);
        HoldGate? heldBy = asked.Action != ScalingAction.Hold && decision.Action == ScalingAction.Hold ? HoldGate.Bounds : null;
        if (floorWhy is not null && context.ActiveServers < minActive && !(decision.Action == ScalingAction.Up && decision.Servers >= minActive - context.ActiveServers))
        {
            // Below a scheduled floor: up to it, whatever the policy said (its decision is not carried out).
            heldBy = null;
            decision = ScalingDecision.Up(minActive - context.ActiveServers, $"{floorWhy}; the policy: {asked.Reason}");
        }
        else if (heldBy is null)
        {
            (decision, heldBy) = _behavior.Apply(decision, context, _servers);
        }

        if (decision.Action == ScalingAction.Down && DownHeldBy(now, context) is { } held)
        {
            decision = ScalingDecision.Hold($"{decision.Reason}, but {held.Why}");
            heldBy = held.Rule;
        }

        // Warming and settling servers are capacity already (they are in ActiveServers): a policy that asks for more
        // than them gets more at once. The policies' breach counts and the behaviour's cooldowns pace scale-ups.
        IReadOnlyList<string> servers = decision.Action switch
        {
            ScalingAction.Up => Pick(ServerRole.Parked, decision.Servers, first: true, now),
            ScalingAction.Down => Pick(ServerRole.Active, decision.Servers, first: false, now),
            _ => [],
        };

        if (servers.Count == 0 && decision.Action != ScalingAction.Hold)
        {
            bool busy = decision.Action == ScalingAction.Down && _trackIdle && Pick(ServerRole.Active, decision.Servers, first: false, now, ignoreIdle: true).Count > 0;
            decision = ScalingDecision.Hold(busy
                ? $"{decision.Reason}, but no server has been idle for {Durations.Format(_options.Behavior.Down.MinIdleBeforePark)}"
                : $"{decision.Reason}, but no server can move");
            heldBy = busy ? HoldGate.MinIdle : HoldGate.Selection;
        }

        if (asked.Action != ScalingAction.Hold)
        {
            if (decision.Action != asked.Action)
            {
                Feedback(asked, heldBy ?? HoldGate.Schedule); // held back, or overruled by a scheduled floor
            }
            else
            {
                _actedOn = asked;
            }
        }

        return new ScalingPlan(_options.Name, now, decision, servers, window, context.HasFreshData, heldBy);
    }

    /// <summary>
    /// The engine held back the plan <see cref="Decide"/> just returned (a pause): the policy hears that its decision
    /// was not carried out, so its cooldowns and breach counts do not move.
    /// </summary>
    public void HeldAfterDecide(HoldGate gate)
    {
        if (_actedOn is { } asked)
        {
            _actedOn = null;
            Feedback(asked, gate);
        }
    }

    private void Feedback(ScalingDecision asked, HoldGate gate)
    {
        if (_policy is not IScalingPolicyFeedback feedback)
        {
            return;
        }

        try
        {
            feedback.OnHeld(asked, gate.Name);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fault("policy", e);
        }
    }

    // The evaluation interval's in-flight, arrival rate and demand (see ScalingContext), then a new interval.
    private ScalingContext WithInterval(ScalingContext context, DateTimeOffset now)
    {
        double seconds = (now - _lastEvaluation).TotalSeconds;
        _lastEvaluation = now;
        if (seconds > 0)
        {
            int serving = _servers.Roles.Count(r => r.Role == ServerRole.Active);
            context = context with
            {
                ArrivalRate = _intervalRequests / seconds,
                InFlight = _timedRequests > 0 ? _sumTotalMs / 1000.0 / seconds : null,
                DemandServers = _sumQueueMs > 0 && serving > 0 ? (int)Math.Ceiling(serving * (double)_sumTotalMs / Math.Max(1, _sumTotalMs - _sumQueueMs)) : null,
            };
        }

        (_intervalRequests, _timedRequests, _sumTotalMs, _sumQueueMs) = (0, 0, 0, 0);
        return context;
    }

    // A blind backend's policy sees HAProxy's own view: rtime (average of the last 1,024 requests) as the window
    // value, fresh once per counter reading; queued requests or new errors as saturation; sessions and queue as in-flight.
    private ScalingContext FromCounters(ScalingContext context, LogCoverage coverage)
    {
        BackendStat? stat = coverage.Stat;
        bool fresh = coverage.LastReading != _lastReadingUsed;
        _lastReadingUsed = coverage.LastReading;
        int milliseconds = stat is null ? 0 : stat.ResponseTimeMs + (_options.Window.Timer == ResponseTimer.Tr ? 0 : stat.QueueTimeMs);
        return context with
        {
            Window = stat is null ? WindowValue.Empty : new WindowValue(milliseconds, 1),
            InFlight = fresh && stat is not null ? stat.CurrentSessions + stat.CurrentQueue : null, // scur + qcur: in flight now
            NewSamples = fresh ? 1 : 0,
            Saturated = context.Saturated || (fresh && (stat?.CurrentQueue > 0 || coverage.ErrorsGrew)),
        };
    }

    // The engine's guards on scale-down where HAProxy's counters are read (the daemon): not while blind, not on stale
    // counters, and after a start not before the window has refilled (an idle backend's empty window goes by the
    // idle rule, which counts idle time from HAProxy's counters too).
    private (HoldGate Rule, string Why)? DownHeldBy(DateTimeOffset now, in ScalingContext context)
    {
        if (_coverage is null)
        {
            return null;
        }

        if (_coverage.Blind)
        {
            return (HoldGate.Blind, $"blind (coverage {Ratio(_coverage.Coverage)}): no scale-down until the logs are back");
        }

        if (_coverage.IsStale(now))
        {
            return (HoldGate.Counters, "HAProxy's counters could not be read lately: no scale-down without them");
        }

        return context.Window.HasValue && !IsRefilled(now) ? (HoldGate.Refilling, "the window is still refilling since the start") : null;
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

    private ScalingPlan Hold(DateTimeOffset now, WindowValue window, string reason, bool fresh, HoldGate heldBy) =>
        new(_options.Name, now, ScalingDecision.Hold(reason), [], window, fresh, heldBy);

    private void Fault(string extension, Exception e) =>
        _fault = _fault is { } pending ? pending with { Count = pending.Count + 1 } : new DecisionFault(extension, e, 1);

    // Up: the first parked server in configuration order (random: any). Down: by the selection, the last active in
    // configuration order, the fewest sessions, or the newest; never an alwaysUp server, never a server in its failure
    // back-off, and with behavior.down.minIdleBeforePark only servers idle that long.
    private List<string> Pick(ServerRole role, int count, bool first, DateTimeOffset now, bool ignoreIdle = false)
    {
        TimeSpan minIdle = first || ignoreIdle ? TimeSpan.Zero : _options.Behavior.Down.MinIdleBeforePark;
        List<string> candidates = [.. _options.Servers
            .Where(s => _servers.RoleOf(s.Name) == role && _servers.IsAvailable(s.Name, now) && !(role == ServerRole.Active && s.AlwaysUp))
            .Where(s => minIdle <= TimeSpan.Zero || now - _servers.LastRequestOf(s.Name) >= minIdle)
            .Select(s => s.Name)];
        if (_options.Selection == ServerSelection.Random)
        {
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
        }
        else if (!first)
        {
            candidates.Reverse();
            if (_options.Selection == ServerSelection.LeastSessions)
            {
                // Unknown sessions (no counter reading yet) sort last; ties keep the ordered choice (stable sort).
                candidates = [.. candidates.OrderBy(s => _servers.SessionsOf(s) is var n and >= 0 ? n : int.MaxValue)];
            }
            else if (_options.Selection == ServerSelection.Newest)
            {
                candidates = [.. candidates.OrderByDescending(_servers.EnabledAt)];
            }
        }

        return candidates.Take(count).ToList();
    }
}

/// <summary>An exception an extension (window or policy) threw while deciding, and how many times since last reported.</summary>
internal sealed record DecisionFault(string Extension, Exception Exception, int Count);
