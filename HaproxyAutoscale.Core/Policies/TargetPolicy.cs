using System.Globalization;
using HaproxyAutoscale.Configuration;
using static HaproxyAutoscale.Policies.ThresholdPolicy;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// Options of the <c>target</c> policy. A setting left out of the configuration keeps the default here. Rules, for
/// configuration and for <see cref="ScalingPolicies.Target"/> alike: <see cref="TargetMs"/> set and more than 0,
/// <see cref="Tolerance"/> not negative, <see cref="MaxStep"/> at least 1, durations not negative.
/// </summary>
public sealed class TargetPolicyOptions
{
    /// <summary>The response time to hold the backend at. Required.</summary>
    public double TargetMs { get; set; }

    /// <summary>No action while the value is within this fraction of the target.</summary>
    /// <value>The default is 0.1, as the Kubernetes HPA.</value>
    public double Tolerance { get; set; } = 0.1;

    /// <summary>Scale down only to the highest recommendation of this period.</summary>
    /// <value>The default is 300 seconds, as the Kubernetes HPA.</value>
    public TimeSpan ScaleDownStabilization { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Most servers added or removed at once.</summary>
    /// <value>The default is 2.</value>
    public int MaxStep { get; set; } = 2;

    /// <summary>Without any request for this long, one server goes; the next idle period takes the next one. Zero turns it off.</summary>
    /// <value>The default is 5 minutes, as the <c>threshold</c> policy.</value>
    public TimeSpan IdleScaleDown { get; set; } = TimeSpan.FromMinutes(5);

    // The rules, the same for settings read from configuration and for options built in code.
    internal void Validate(Action<string, string> addError)
    {
        PolicyRules.RequiredMilliseconds(ScalingPolicyNames.Target, "targetMs", TargetMs, addError);
        PolicyRules.NotNegative("tolerance", Tolerance, addError);
        PolicyRules.NotNegative("scaleDownStabilization", ScaleDownStabilization, addError);
        PolicyRules.AtLeastOne("maxStep", MaxStep, addError);
        PolicyRules.NotNegative("idleScaleDown", IdleScaleDown, addError);
    }
}

/// <summary>
/// Target tracking as in the Kubernetes HPA: desired = ceil(active × value / target), nothing within the tolerance,
/// scale-up at once, scale-down to the highest recommendation of the stabilization period. Saturation asks for the
/// servers the queue's demand needs (<see cref="ScalingContext.DemandServers"/>), at least one more than active. Without requests, the idle rule takes servers away one idle period at a time.
/// </summary>
internal sealed class TargetPolicy : IScalingPolicy, ILatencyObjective
{
    private readonly TargetPolicyOptions _options;
    private readonly IdleRule _idle;
    private readonly Queue<(DateTimeOffset Time, int Desired)> _recommendations = new();
    private VersusReason? _versus; // the reason's fixed part for the target of the options

    public TargetPolicy(TargetPolicyOptions options) => (_options, _idle) = (options, new IdleRule(options.IdleScaleDown));

    public double ObjectiveMs => _options.TargetMs;

    // Defaults come from the options class: a setting left out keeps it.
    public static IScalingPolicy Create(PolicySettings settings)
    {
        var options = new TargetPolicyOptions();
        options.TargetMs = settings.GetNumber("targetMs", options.TargetMs);
        options.Tolerance = settings.GetNumber("tolerance", options.Tolerance);
        options.ScaleDownStabilization = settings.GetDuration("scaleDownStabilization", options.ScaleDownStabilization);
        options.MaxStep = settings.GetInteger("maxStep", options.MaxStep);
        options.IdleScaleDown = settings.GetDuration("idleScaleDown", options.IdleScaleDown);
        options.Validate(settings.AddError);
        return new TargetPolicy(options);
    }

    public ScalingDecision Decide(ScalingContext context)
    {
        if (_idle.Decide(context) is { } idle)
        {
            return idle;
        }

        int active = context.ActiveServers;
        int desired;
        string? what; // null: the window's figures against the target (kept, formatted when read)
        if (context.Saturated)
        {
            // As many as the queue says (serving ones at their concurrency), at least one more.
            desired = Math.Max(active + 1, context.DemandServers ?? 0);
            what = context.DemandServers is { } demand && demand > active + 1
                ? string.Create(CultureInfo.InvariantCulture, $"saturated (queueing): the demand needs {demand}")
                : "saturated (<NOSRV> or queueing)";
        }
        else if (!context.HasFreshData)
        {
            return ScalingDecision.Hold("no new samples");
        }
        else
        {
            double ratio = context.Window.Value / _options.TargetMs;
            desired = Math.Abs(ratio - 1) <= _options.Tolerance ? active : (int)Math.Ceiling(Math.Max(active, 1) * ratio);
            what = null;
        }

        _recommendations.Enqueue((context.Now, desired));
        while (_recommendations.Peek().Time < context.Now - _options.ScaleDownStabilization)
        {
            _recommendations.Dequeue();
        }

        if (desired > active)
        {
            return ScalingDecision.Up(Math.Min(desired - active, _options.MaxStep), what ?? Versus(context, desired, -1).ToString()).WithinBounds(context);
        }

        int stabilized = _recommendations.Max(r => r.Desired);
        if (stabilized < active)
        {
            return ScalingDecision.Down(Math.Min(active - stabilized, _options.MaxStep), $"{what ?? Versus(context, desired, -1).ToString()}, highest in the last {Durations.Format(_options.ScaleDownStabilization)}: {stabilized}").WithinBounds(context);
        }

        int heldAt = stabilized > desired ? stabilized : -1;
        return new ScalingDecision(ScalingAction.Hold, 0, what is null
            ? Versus(context, desired, heldAt)
            : new DecisionReason(heldAt >= 0 ? $"{what}, held at {stabilized} by the stabilization window" : what));
    }

    private DecisionReason Versus(in ScalingContext context, int desired, int heldAt)
    {
        if (_versus?.TargetMs != _options.TargetMs)
        {
            _versus = new VersusReason(_options.TargetMs);
        }

        return new DecisionReason(_versus, context.Window.Value, desired, heldAt);
    }

    // "{value} ms vs target {target} ms: desired {first}[, held at {second} by the stabilization window]".
    private sealed class VersusReason(double targetMs) : ReasonTemplate
    {
        private readonly string _target = $" vs target {Ms(targetMs)}: desired ";

        public double TargetMs => targetMs;

        public override string Format(double value, int first, int second, int third) => second < 0
            ? string.Create(CultureInfo.InvariantCulture, $"{Ms(value)}{_target}{first}")
            : string.Create(CultureInfo.InvariantCulture, $"{Ms(value)}{_target}{first}, held at {second} by the stabilization window");
    }
}
