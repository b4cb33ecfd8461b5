using System.Globalization;
using HaproxyAutoscale.Configuration;
using static HaproxyAutoscale.Policies.ThresholdPolicy;

namespace HaproxyAutoscale.Policies;

/// <summary>Options of the <c>target</c> policy.</summary>
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
}

/// <summary>
/// Target tracking as in the Kubernetes HPA: desired = ceil(active × value / target), nothing within the tolerance,
/// scale-up at once, scale-down to the highest recommendation of the stabilization period. Saturation asks for one
/// more server than active. Without requests, the idle rule takes servers away one idle period at a time.
/// </summary>
internal sealed class TargetPolicy : IScalingPolicy
{
    private readonly TargetPolicyOptions _options;
    private readonly IdleRule _idle;
    private readonly Queue<(DateTimeOffset Time, int Desired)> _recommendations = new();

    public TargetPolicy(TargetPolicyOptions options) => (_options, _idle) = (options, new IdleRule(options.IdleScaleDown));

    public static IScalingPolicy Create(PolicySettings settings) => new TargetPolicy(new TargetPolicyOptions
    {
        TargetMs = settings.GetRequiredPositive("targetMs"),
        Tolerance = settings.GetDouble("tolerance", 0.1),
        ScaleDownStabilization = settings.GetDuration("scaleDownStabilization", TimeSpan.FromSeconds(300)),
        MaxStep = settings.GetInt32("maxStep", 2, minimum: 1),
        IdleScaleDown = settings.GetDuration("idleScaleDown", TimeSpan.FromMinutes(5)),
    });

    public ScalingDecision Decide(ScalingContext context)
    {
        if (_idle.Decide(context) is { } idle)
        {
            return idle;
        }

        int active = context.ActiveServers;
        int desired;
        string what;
        if (context.Saturated)
        {
            desired = active + 1;
            what = "saturated (<NOSRV> or queueing)";
        }
        else if (!context.HasFreshData)
        {
            return ScalingDecision.Hold("no new samples");
        }
        else
        {
            double ratio = context.Window.Value / _options.TargetMs;
            desired = Math.Abs(ratio - 1) <= _options.Tolerance ? active : (int)Math.Ceiling(Math.Max(active, 1) * ratio);
            what = string.Create(CultureInfo.InvariantCulture, $"{Ms(context.Window.Value)} vs target {Ms(_options.TargetMs)}: desired {desired}");
        }

        _recommendations.Enqueue((context.Now, desired));
        while (_recommendations.Peek().Time < context.Now - _options.ScaleDownStabilization)
        {
            _recommendations.Dequeue();
        }

        if (desired > active)
        {
            return ScalingDecision.Up(Math.Min(desired - active, _options.MaxStep), what).WithinBounds(context);
        }

        int stabilized = _recommendations.Max(r => r.Desired);
        if (stabilized < active)
        {
            return ScalingDecision.Down(Math.Min(active - stabilized, _options.MaxStep), $"{what}, highest in the last {Durations.Format(_options.ScaleDownStabilization)}: {stabilized}").WithinBounds(context);
        }

        return ScalingDecision.Hold(stabilized > desired ? $"{what}, held at {stabilized} by the stabilization window" : what);
    }
}
