using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>A backend's state as the autoscaler sees it, for live views, health and admin endpoints.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Window">Its window's value now.</param>
/// <param name="Servers">Each configured server (pool slots included), in configuration order.</param>
public sealed record BackendSnapshot(string Backend, WindowValue Window, IReadOnlyList<ServerSnapshot> Servers)
{
    /// <summary>
    /// Requests logged ÷ requests HAProxy counted over the coverage interval (1.0: every request was seen in the
    /// logs); <see langword="null"/> before HAProxy's counters were read, or while HAProxy counted no request.
    /// </summary>
    public double? Coverage { get; init; }

    /// <summary>Whether the backend is blind: HAProxy counts traffic the logs do not show, so nothing scales it down.</summary>
    public bool Blind { get; init; }

    /// <summary>
    /// HAProxy's current sessions and queued requests of the backend at the last counter reading (open connections
    /// included, which log only when they end); <see langword="null"/> before the counters were read.
    /// </summary>
    public int? OpenSessions { get; init; }

    /// <summary>Until when the backend is paused (it decides and logs, but acts on nothing); <see langword="null"/> when not paused.</summary>
    public DateTimeOffset? PausedUntil { get; init; }

    /// <summary>The last evaluation's outcome, or <see langword="null"/> before the first one.</summary>
    public BackendDecision? LastDecision { get; init; }

    /// <summary>The last evaluation's servers wanted, bounds and in-flight (for the metrics), or <see langword="null"/> before the first.</summary>
    internal EvaluationGauges? Gauges { get; init; }

    /// <summary>The policy's latency objective (<see cref="ILatencyObjective"/>), if it has one.</summary>
    internal double? ObjectiveMs { get; init; }

    /// <summary>
    /// Whether the backend is at zero by choice (scale to zero): its minimum is 0 and no server is active, warming or
    /// draining. HAProxy holds its requests (the Lua script) and wakes it.
    /// </summary>
    public bool AtZero { get; init; }

    /// <summary>
    /// The forecast floor now (<c>forecast</c> mode <c>forecast-only</c> or <c>on</c>): what it asks for and why, or
    /// <see langword="null"/> when off or before the history covers a past day at this time.
    /// </summary>
    public Forecasting.ForecastStatus? Forecast { get; init; }

    /// <summary>The wake in progress (since when, how many requests held), or <see langword="null"/>.</summary>
    public BackendWaking? Waking { get; init; }

    /// <summary>The servers' model learned from the backend's log records, or <see langword="null"/> before any request with a response time.</summary>
    public Capacity.LearnedCapacity? Capacity { get; init; }
}

/// <summary>A backend being woken from zero, as reported by <see cref="BackendSnapshot.Waking"/>.</summary>
/// <param name="Since">When the wake line that started the wake arrived.</param>
/// <param name="Held">The requests HAProxy held, from the latest wake line.</param>
public sealed record BackendWaking(DateTimeOffset Since, int Held);

/// <summary>One server as reported by <see cref="BackendSnapshot.Servers"/>.</summary>
/// <param name="Name">The server.</param>
/// <param name="Lifecycle">Where it is in its life: the server's state.</param>
/// <param name="Address">The address its provider gave (<c>ADDRESS:PORT</c>), or <see langword="null"/>.</param>
/// <param name="Since">When it entered <paramref name="Lifecycle"/>.</param>
public sealed record ServerSnapshot(string Name, ServerLifecycleState Lifecycle, string? Address, DateTimeOffset Since)
{
    /// <summary>What the server is to the scaling decisions, derived from <see cref="Lifecycle"/>.</summary>
    public ServerRole Role => ServerStates.RoleOf(Lifecycle);

    /// <summary>The weight it is enabled with (its configured <c>weight</c>), or <see langword="null"/>: haproxy.cfg's.</summary>
    public int? Weight { get; init; }

    /// <summary>Whether it is never scaled down (<c>alwaysUp</c>).</summary>
    public bool AlwaysUp { get; init; }
}

/// <summary>One evaluation's outcome for a backend, as reported by <see cref="BackendSnapshot.LastDecision"/>.</summary>
/// <param name="Time">When it was decided.</param>
/// <param name="Action">Up, down, or hold.</param>
/// <param name="Servers">The servers it moves (empty for a hold).</param>
/// <param name="Reason">The policy's reason and, for a hold the engine imposed, the rule that held it back.</param>
/// <param name="HeldBy">The engine rule that turned the policy's decision into a hold (e.g. <c>cooldown</c>, <c>bounds</c>, <c>blind</c>, <c>paused</c>, <c>standby</c>), or <see langword="null"/>.</param>
public sealed record BackendDecision(DateTimeOffset Time, ScalingAction Action, IReadOnlyList<string> Servers, string Reason, string? HeldBy);
