using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// One backend's parts: its servers' lifecycle table and its decider, and the lock that guards both (log reading,
/// evaluation, actions and reconcile each take it only to read or update state, never across I/O).
/// </summary>
internal sealed class ScaledBackend
{
    private ScaledBackend(BackendOptions options, ServerTable servers, BackendDecider decider, LogCoverage? coverage)
    {
        Options = options;
        Servers = servers;
        Decider = decider;
        Coverage = coverage;
    }

    /// <summary>The backend's options; a reload that changes the backend replaces them (under <see cref="Gate"/>).</summary>
    public BackendOptions Options { get; set; }

    public string Name => Options.Name;

    public ServerTable Servers { get; }

    /// <summary>The backend's decider; a reload that changes the backend replaces it, carrying what it learned (under <see cref="Gate"/>).</summary>
    public BackendDecider Decider { get; set; }

    /// <summary>The logs checked against HAProxy's counters (the daemon), or <see langword="null"/> (replay).</summary>
    public LogCoverage? Coverage { get; }

    /// <remarks>
    /// The backend itself: a lock object of its own would be one more cache miss per log line (at 10,000 backends).
    /// So never hash a backend by identity (<see cref="ReferenceEqualityComparer"/>, the default
    /// <see cref="object.GetHashCode"/>): the hash code takes the header the thin lock uses, and every lock then goes
    /// through a sync block, two misses more per line. Key maps by <see cref="Name"/>.
    /// </remarks>
    public object Gate => this;

    /// <summary>What starts and stops the backend's servers (<c>provider</c>), or <see langword="null"/>: parked servers keep running.</summary>
    public Providers.IServerProvider? Provider { get; set; }

    /// <summary>Until when the backend is paused by an operator (it decides and logs, acts on nothing). Under <see cref="Gate"/>.</summary>
    public DateTimeOffset? PausedUntil { get; set; }

    /// <summary>The rule (paused, blind) whose first held-back action of the current spell was logged. Under <see cref="Gate"/>.</summary>
    public HoldGate? HeldBackBy
    {
        get => _heldBackBy;
        set => OldObjects.Set(ref _heldBackBy, value); // set at every evaluation, mostly to what it was
    }

    private HoldGate? _heldBackBy;

    /// <summary>The wake in progress, if any (scale to zero). Under <see cref="Gate"/>.</summary>
    public WakeState Wake { get; } = new();

    /// <summary>
    /// Whether the backend is at zero by choice: its minimum is 0 and no server is active, warming or draining (a wake
    /// in progress is <see cref="WakeState.IsWaking"/>, not zero). Under <see cref="Gate"/>.
    /// </summary>
    public bool AtZero => Options.EffectiveMinActive == 0 && !Wake.IsWaking
        && !Servers.Roles.Any(r => r.Role is ServerRole.Active or ServerRole.Warming or ServerRole.Draining);

    /// <summary>The last evaluation's outcome. Under <see cref="Gate"/>.</summary>
    /// <remarks>
    /// Kept as its parts, made into a record when read: a new object stored in every backend at every evaluation
    /// would make each collection of the young generation scan them all (the backends are old).
    /// </remarks>
    public BackendDecision? LastDecision
    {
        get => _decisionReason.IsEmpty ? null : new(_decisionTime, _decisionAction, _decisionServers, _decisionReason.ToString(), _decisionHeldBy);
        set => (_decisionTime, _decisionAction, _decisionServers, _decisionReason, _decisionHeldBy) = value is null
            ? (default, default, [], default, null)
            : (value.Time, value.Action, value.Servers, new DecisionReason(value.Reason), value.HeldBy);
    }

    /// <summary>Sets <see cref="LastDecision"/> to <paramref name="plan"/>'s outcome (no record made, the reason not formatted). Under <see cref="Gate"/>.</summary>
    /// <remarks>Its references are written only when they change (<see cref="OldObjects"/>): most backends hold at every evaluation for the same reason.</remarks>
    public void Decided(ScalingPlan plan)
    {
        (_decisionTime, _decisionAction) = (plan.Time, plan.Decision.Action);
        OldObjects.Set(ref _decisionServers, plan.Servers);
        _decisionReason.Keep(plan.Decision.ReasonText);
        OldObjects.Set(ref _decisionHeldBy, plan.HeldBy);
    }

    private DateTimeOffset _decisionTime;
    private ScalingAction _decisionAction;
    private IReadOnlyList<string> _decisionServers = [];
    private DecisionReason _decisionReason;
    private string? _decisionHeldBy;

    /// <summary>Creates the backend's policy and window from validated options; <paramref name="signals"/> when HAProxy's counters are read.</summary>
    /// <remarks><paramref name="history"/>: where the forecast's demand history is kept (the state directory), or <see langword="null"/>: in memory only.</remarks>
    public static ScaledBackend Create(BackendOptions options, ScalingPolicyRegistry policies, ResponseTimeWindowRegistry windows, TimeProvider time,
        Random? random = null, AutoscaleOptions? signals = null, Forecasting.DemandHistoryStore? history = null)
    {
        IScalingPolicy policy = CreatePolicy(options, policies);
        var servers = new ServerTable(options, time);
        LogCoverage? coverage = signals is null ? null : new LogCoverage(signals);
        var decider = new BackendDecider(options, policy, windows.Create(options.Window, time), servers, time, random, coverage, signals?.Logs.Fallback ?? BlindFallback.Stat);
        var backend = new ScaledBackend(options, servers, decider, coverage); // a log line reads both: made one after the other
        decider.Forecast = new Forecasting.BackendForecast(options.Name, options.Forecast, history);
        return backend;
    }

    /// <summary>The backend's policy from validated options (at start, and when a reload changes it).</summary>
    public static IScalingPolicy CreatePolicy(BackendOptions options, ScalingPolicyRegistry policies)
    {
        var errors = new List<string>();
        var settings = new PolicySettings(options.Policy.Kind, options.Policy.Settings.ToDictionary(), $"backends.{options.Name}.policy");
        return policies.TryCreate(settings, errors)
            ?? throw new ArgumentException($"invalid policy for backend '{options.Name}': {string.Join("; ", errors)}", nameof(options));
    }

    // withDecision false: without the last decision, whose reason is formatted when read (the metrics never read it,
    // and a scrape snapshots every backend: 10,000 reason strings).
    public BackendSnapshot Snapshot(bool withDecision = true)
    {
        lock (Gate)
        {
            WindowValue window;
            try
            {
                window = Decider.Window.Evaluate();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                window = WindowValue.Empty; // the evaluation loop reports the window's failure
            }

            return new BackendSnapshot(Name, window, [.. Servers.Snapshot])
            {
                Coverage = Coverage?.Coverage,
                Blind = Coverage?.Blind ?? false,
                OpenSessions = Coverage?.Stat is { } stat ? stat.CurrentSessions + stat.CurrentQueue : null,
                PausedUntil = PausedUntil,
                LastDecision = withDecision ? LastDecision : null,
                Gauges = Decider.Gauges,
                ObjectiveMs = (Decider.Policy as ILatencyObjective)?.ObjectiveMs,
                Forecast = Decider.Forecast?.Current,
                Capacity = Decider.Capacity.Current,

                AtZero = AtZero,
                Waking = Wake.Since is { } since ? new BackendWaking(since, Wake.Held) : null,
            };
        }
    }
}
