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
/// <param name="Gate">The engine rule that turned the policy's decision into a hold, or <see langword="null"/>.</param>
/// <remarks>A value: every backend has one at every evaluation, and nothing keeps it but a log, the simulation and a test.</remarks>
internal readonly record struct ScalingPlan(string Backend, DateTimeOffset Time, ScalingDecision Decision, IReadOnlyList<string> Servers, WindowValue Window, bool HasFreshData, HoldGate? Gate = null)
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

/// <summary>An exception an extension (window or policy) threw while deciding, and how many times since last reported.</summary>
internal sealed record DecisionFault(string Extension, Exception Exception, int Count);
