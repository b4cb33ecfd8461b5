namespace HaproxyAutoscale.Scaling;

/// <summary>
/// A rule of the engine that turns a policy's up or down decision into a hold. Its <see cref="Name"/> is what
/// <see cref="BackendDecision.HeldBy"/>, <c>explain</c>, <c>replay</c>, <c>simulate</c>'s HELD BY, the logs and
/// <see cref="Policies.IScalingPolicyFeedback.OnHeld"/> show.
/// </summary>
internal sealed class HoldGate
{
    public static readonly HoldGate Bounds = new("bounds");
    public static readonly HoldGate Tolerance = new("tolerance");
    public static readonly HoldGate Stabilization = new("stabilization");
    public static readonly HoldGate Cooldown = new("cooldown");
    public static readonly HoldGate MinIdle = new("minIdle");
    public static readonly HoldGate Selection = new("selection");
    public static readonly HoldGate Counters = new("counters");
    public static readonly HoldGate Refilling = new("refilling");

    /// <summary>A scheduled floor overruled the policy (told to the policy only: the plan is a scale-up, not a hold).</summary>
    public static readonly HoldGate Schedule = new("schedule");

    public static readonly HoldGate Blind = new("blind", spell: true);
    public static readonly HoldGate Paused = new("paused", spell: true);
    public static readonly HoldGate Standby = new("standby");
    public static readonly HoldGate WindowError = new("window error", fault: true);
    public static readonly HoldGate PolicyError = new("policy error", fault: true);

    private HoldGate(string name, bool spell = false, bool fault = false)
    {
        Name = name;
        IsSpell = spell;
        IsFault = fault;
    }

    /// <summary>The rule's name in output.</summary>
    public string Name { get; }

    /// <summary>Whether it holds for a spell an operator should see (paused, blind): its first held-back action is logged without <c>--verbose</c>.</summary>
    public bool IsSpell { get; }

    /// <summary>Whether an extension's fault (the window, the policy) made the hold: logged with the fault, not as a rule's hold.</summary>
    public bool IsFault { get; }

    public override string ToString() => Name;
}
