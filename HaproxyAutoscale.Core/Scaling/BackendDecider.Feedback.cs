using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// What goes back from a decision: to the policy, that a decision it asked for was held back; to the engine, the
/// window's or policy's exceptions, counted and reported once per evaluation.
/// </summary>
internal sealed partial class BackendDecider
{
    /// <summary>The first exception from the window or policy since the last call, and how many there were.</summary>
    public DecisionFault? TakeFault()
    {
        DecisionFault? fault = _fault;
        _fault = null;
        return fault;
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

    private void Fault(string extension, Exception e) =>
        _fault = _fault is { } pending ? pending with { Count = pending.Count + 1 } : new DecisionFault(extension, e, 1);
}
