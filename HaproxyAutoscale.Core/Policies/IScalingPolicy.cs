using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// Decides when a backend needs more or fewer servers, and how many. A policy only decides: the engine picks the
/// servers, warms them up and talks to HAProxy. One instance per backend, called by one thread at a time at every
/// evaluation; it may keep state (consecutive breaches, cooldowns) between calls. Different backends' policies may be
/// called at the same moment (a large pass is shared across the cores): state shared between instances must be
/// thread-safe.
/// </summary>
public interface IScalingPolicy
{
    /// <summary>Returns the decision for the backend's situation now.</summary>
    ScalingDecision Decide(ScalingContext context);
}

/// <summary>What a policy sees at an evaluation.</summary>
/// <param name="Backend">The backend's name.</param>
/// <param name="Now">The evaluation time (from the engine's <see cref="TimeProvider"/>).</param>
/// <param name="Window">The response-time window's value; <see cref="WindowValue.HasValue"/> is false without samples.</param>
/// <param name="ActiveServers">Servers taking traffic or warming up (warming counts as capacity).</param>
/// <param name="MinActive">Never go below this (the <c>alwaysUp</c> servers, or <c>minActive</c>).</param>
/// <param name="MaxActive">Never go above this (the configured servers, or <c>maxActive</c>).</param>
/// <param name="Saturated">Since the last evaluation HAProxy answered <c>&lt;NOSRV&gt;</c> 503s or queued requests (Tw &gt; 0).</param>
/// <param name="LastRequest">When the backend last logged a request, or <see langword="null"/> if never since start.</param>
/// <param name="Started">When the engine started watching the backend.</param>
/// <param name="NewSamples">Samples added to the window since the previous evaluation.</param>
public readonly record struct ScalingContext(
    string Backend,
    DateTimeOffset Now,
    WindowValue Window,
    int ActiveServers,
    int MinActive,
    int MaxActive,
    bool Saturated,
    DateTimeOffset? LastRequest,
    DateTimeOffset Started,
    int NewSamples)
{
    /// <summary>
    /// Whether there is fresh data to judge by: a window value and new samples since the last evaluation. A window
    /// that keeps old samples (a count window during silence) must not keep voting: no new data means hold.
    /// </summary>
    public bool HasFreshData => Window.HasValue && NewSamples > 0;

    /// <summary>
    /// Requests in flight in the backend (serving or queued) over the evaluation interval, by Little's law: requests
    /// logged per second × their mean total time (<c>Ta</c>). A time average, unlike a log line's <c>srv_conn</c>,
    /// which is sampled when a request ends and so over-weights busy moments. <see langword="null"/> when no request
    /// ended in the interval (no data, not zero). Where HAProxy's counters are read and a server serves, never below
    /// <see cref="OpenSessions"/>: a backend holding open connections that have not logged yet is busy, not idle.
    /// </summary>
    public double? InFlight { get; init; }

    /// <summary>
    /// HAProxy's current sessions and queued requests of the backend (<c>scur</c> + <c>qcur</c>, summed over the
    /// instances) at the last counter reading, where the counters are read and fresh; otherwise <see langword="null"/>.
    /// They include what the log cannot show yet (a request logs when it ends): open WebSockets, server-sent event
    /// streams, long downloads, requests held at zero. <see cref="InFlight"/> is never below them while a server serves
    /// (at zero, held requests wake the backend through the hold's wake lines, sized by them).
    /// </summary>
    public int? OpenSessions { get; init; }

    /// <summary>Requests logged per second over the evaluation interval (0 when none was).</summary>
    public double ArrivalRate { get; init; }

    /// <summary>
    /// When requests queued in the interval: the servers that would serve every queued request at the concurrency
    /// the serving servers ran at (serving × mean <c>Ta</c> ÷ mean (<c>Ta</c> − <c>Tw</c>)); <see langword="null"/>
    /// without queueing. A saturated backend's demand, so a policy can ask for that many at once instead of one.
    /// </summary>
    public int? DemandServers { get; init; }

    /// <summary>The log coverage (requests logged ÷ requests HAProxy counted), where HAProxy's counters are read; otherwise <see langword="null"/>.</summary>
    public double? Coverage { get; init; }

    /// <summary>Whether the backend is blind (its logs miss requests HAProxy counts): the engine holds every scale-down then.</summary>
    public bool Blind { get; init; }

    /// <summary>When the last scale-up of the backend completed (its server took traffic), or <see langword="null"/>.</summary>
    public DateTimeOffset? LastScaleUpCompleted { get; init; }

    /// <summary>When the last scale-down of the backend completed (its server was parked), or <see langword="null"/>.</summary>
    public DateTimeOffset? LastScaleDownCompleted { get; init; }

    /// <summary>
    /// The servers' model learned from the backend's logs (service time, workers, requests per second one server takes
    /// within the SLO), or <see langword="null"/> before one is fitted. Size by it only when it is
    /// <see cref="Capacity.LearnedCapacity.Confident"/>.
    /// </summary>
    public Capacity.LearnedCapacity? Capacity { get; init; }
}

/// <summary>
/// Implemented by a policy that keeps state about its own actions (breach counts, cooldowns): the engine calls
/// <see cref="OnHeld"/> when it turned the policy's up or down decision into a hold (a cooldown, a bound, a pause,
/// blindness…), so the decision that was not carried out does not count as an action. The built-in policies implement it.
/// </summary>
public interface IScalingPolicyFeedback
{
    /// <summary>The engine held back <paramref name="decision"/> (the one just returned) because of <paramref name="gate"/>.</summary>
    void OnHeld(ScalingDecision decision, string gate);
}

/// <summary>What to do about a backend's capacity.</summary>
public enum ScalingAction
{
    /// <summary>Nothing.</summary>
    Hold,

    /// <summary>Enable servers.</summary>
    Up,

    /// <summary>Drain servers into maintenance.</summary>
    Down,
}

/// <summary>A policy's decision, with a sentence a human can read in the log.</summary>
/// <param name="Action">Hold, up or down.</param>
/// <param name="Servers">How many servers to enable or drain (0 for hold).</param>
/// <param name="Reason">Why, e.g. "mean 950 ms > 800 ms on 3 consecutive evaluations".</param>
public readonly record struct ScalingDecision(ScalingAction Action, int Servers, string Reason)
{
    // The reason as given, or as a template and figures a built-in policy formats only when it is read.
    private readonly DecisionReason _reason = new(Reason);

    internal ScalingDecision(ScalingAction action, int servers, DecisionReason reason)
        : this(action, servers, Reason: null!) => _reason = reason;

    /// <summary>Why, e.g. "mean 950 ms > 800 ms on 3 consecutive evaluations".</summary>
    /// <remarks>A built-in policy's reason is formatted when read: read it once.</remarks>
    public string Reason
    {
        get => _reason.ToString();
        init => _reason = new(value);
    }

    /// <summary>The reason unformatted, to keep (the backend's last decision) or to read later.</summary>
    internal DecisionReason ReasonText => _reason;

    /// <summary>Hold, for the given reason.</summary>
    public static ScalingDecision Hold(string reason) => new(ScalingAction.Hold, 0, reason);

    /// <summary>Enable <paramref name="servers"/> servers.</summary>
    public static ScalingDecision Up(int servers, string reason) => new(ScalingAction.Up, servers, reason);

    /// <summary>Drain <paramref name="servers"/> servers.</summary>
    public static ScalingDecision Down(int servers, string reason) => new(ScalingAction.Down, servers, reason);

    /// <summary>
    /// Applies the rules common to every policy: never above <see cref="ScalingContext.MaxActive"/>, never below
    /// <see cref="ScalingContext.MinActive"/>. A decision that cannot move at all becomes a hold that says why.
    /// </summary>
    public ScalingDecision WithinBounds(in ScalingContext context)
    {
        switch (Action)
        {
            case ScalingAction.Up:
                int room = context.MaxActive - context.ActiveServers;
                return room <= 0 ? Hold($"{Reason}, but already at the maximum of {context.MaxActive} active") : this with { Servers = Math.Min(Servers, room) };
            case ScalingAction.Down:
                int spare = context.ActiveServers - context.MinActive;
                return spare <= 0 ? Hold($"{Reason}, but already at the minimum of {context.MinActive} active") : this with { Servers = Math.Min(Servers, spare) };
            default:
                return this;
        }
    }
}
