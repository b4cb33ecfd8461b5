using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// The idle rule of the built-in policies, for custom policies to compose: no request for the period removes one
/// server and re-arms, so each further idle period takes the next one, down to the lower bound. A backend with open
/// sessions (<see cref="ScalingContext.OpenSessions"/>) is not idle. A zero period turns it off. Keep one instance per policy instance (it remembers its last scale-down).
/// </summary>
/// <remarks>An idle backend gives no samples, and no samples never means "fast": this is the only way down without traffic.</remarks>
public sealed class IdleRule(TimeSpan period)
{
    private DateTimeOffset? _lastScaleDown;
    private DateTimeOffset? _previousScaleDown;

    /// <summary>The decision when the backend has been idle for the period (a down step, or a hold at the lower bound); otherwise <see langword="null"/>.</summary>
    public ScalingDecision? Decide(in ScalingContext context)
    {
        // Idle: measured from the last request, or from the last idle scale-down (re-armed), or from the start.
        DateTimeOffset lastRequest = context.LastRequest ?? context.Started;
        DateTimeOffset idleSince = _lastScaleDown is { } last && last > lastRequest ? last : lastRequest;
        // Open sessions (a WebSocket, an event stream) log nothing until they end: the backend is busy, not idle.
        if (period <= TimeSpan.Zero || context.Saturated || context.Now - idleSince < period || context.OpenSessions > 0)
        {
            return null;
        }

        ScalingDecision down = ScalingDecision.Down(1, $"no request for {Durations.Format(context.Now - lastRequest)}").WithinBounds(context);
        if (down.Action == ScalingAction.Down)
        {
            (_previousScaleDown, _lastScaleDown) = (_lastScaleDown, context.Now);
        }

        return down;
    }

    /// <summary>The engine held back the scale-down this rule just decided: the idle period is not re-armed by it.</summary>
    public void Held() => _lastScaleDown = _previousScaleDown;
}
