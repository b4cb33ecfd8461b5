using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// Decides when a backend needs more or fewer servers, and how many. A policy only decides: the engine picks the
/// servers, warms them up and talks to HAProxy. One instance per backend, called by one loop at every evaluation;
/// it may keep state (consecutive breaches, cooldowns) between calls.
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
