using System.Globalization;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// Options of the <c>threshold</c> policy (N breaches up, an idle period down). A setting left out of the
/// configuration keeps the default here. Rules, for configuration and for <see cref="ScalingPolicies.Threshold"/> alike:
/// <see cref="ThresholdMs"/> more than 0, <see cref="Breaches"/> at least 1, <see cref="IdleScaleDown"/> not negative.
/// </summary>
public sealed class ThresholdPolicyOptions
{
    /// <summary>The window value above which an evaluation is a breach.</summary>
    /// <value>The default is 800 ms.</value>
    public double ThresholdMs { get; set; } = 800;

    /// <summary>Consecutive breaches that add one server.</summary>
    /// <value>The default is 3.</value>
    public int Breaches { get; set; } = 3;

    /// <summary>Without any request for this long, one server goes; the next idle period takes the next one. Zero turns it off.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan IdleScaleDown { get; set; } = TimeSpan.FromMinutes(5);

    // The rules, the same for settings read from configuration and for options built in code.
    internal void Validate(Action<string, string> addError)
    {
        PolicyRules.Milliseconds("thresholdMs", ThresholdMs, addError);
        PolicyRules.AtLeastOne("breaches", Breaches, addError);
        PolicyRules.NotNegative("idleScaleDown", IdleScaleDown, addError);
    }
}

/// <summary>
/// The classic threshold algorithm: the window above <see cref="ThresholdPolicyOptions.ThresholdMs"/> on
/// <see cref="ThresholdPolicyOptions.Breaches"/> consecutive evaluations adds one server; no request for
/// <see cref="ThresholdPolicyOptions.IdleScaleDown"/> removes one, and re-arms for the next. Saturation
/// (<c>&lt;NOSRV&gt;</c>, queueing) is a breach; an evaluation without samples and without saturation changes nothing.
/// </summary>
internal sealed class ThresholdPolicy : IScalingPolicy, ILatencyObjective, IScalingPolicyFeedback
{
    private readonly ThresholdPolicyOptions _options;
    private readonly IdleRule _idle;
    private int _consecutiveBreaches;
    private int _breachesBeforeUp;
    private BelowReason? _below; // "12.5 ms ≤ 800 ms" for the threshold of the options

    public ThresholdPolicy(ThresholdPolicyOptions options) => (_options, _idle) = (options, new IdleRule(options.IdleScaleDown));

    public double ObjectiveMs => _options.ThresholdMs;

    // Defaults come from the options class: a setting left out keeps it.
    public static IScalingPolicy Create(PolicySettings settings)
    {
        var options = new ThresholdPolicyOptions();
        options.ThresholdMs = settings.GetNumber("thresholdMs", options.ThresholdMs);
        options.Breaches = settings.GetInteger("breaches", options.Breaches);
        options.IdleScaleDown = settings.GetDuration("idleScaleDown", options.IdleScaleDown);
        options.Validate(settings.AddError);
        return new ThresholdPolicy(options);
    }

    public ScalingDecision Decide(ScalingContext context)
    {
        if (_idle.Decide(context) is { } idle)
        {
            _consecutiveBreaches = 0;
            return idle;
        }

        bool breach = context.Saturated || (context.HasFreshData && context.Window.Value > _options.ThresholdMs);
        if (!breach)
        {
            if (context.HasFreshData)
            {
                _consecutiveBreaches = 0;
                // Most evaluations of a healthy backend: the figures are kept, the text made only when read.
                if (_below?.ThresholdMs != _options.ThresholdMs)
                {
                    _below = new BelowReason(_options.ThresholdMs);
                }

                return new ScalingDecision(ScalingAction.Hold, 0, new DecisionReason(_below, context.Window.Value));
            }

            return ScalingDecision.Hold("no new samples");
        }

        _consecutiveBreaches++;
        string what = context.Saturated ? "saturated (<NOSRV> or queueing)" : $"{Ms(context.Window.Value)} > {Ms(_options.ThresholdMs)}";
        if (_consecutiveBreaches < _options.Breaches)
        {
            return ScalingDecision.Hold($"{what}, breach {_consecutiveBreaches} of {_options.Breaches}");
        }

        (_breachesBeforeUp, _consecutiveBreaches) = (_consecutiveBreaches, 0);
        return ScalingDecision.Up(1, $"{what} on {_options.Breaches} consecutive evaluations").WithinBounds(context);
    }

    // The engine did not carry the decision out: the breaches still count (the next breach asks again).
    public void OnHeld(ScalingDecision decision, string gate)
    {
        if (decision.Action == ScalingAction.Up)
        {
            _consecutiveBreaches = _breachesBeforeUp;
        }
        else
        {
            _idle.Held();
        }
    }

    internal static string Ms(double value) => string.Create(CultureInfo.InvariantCulture, $"{value:0.#} ms");

    // "{value} ms ≤ {threshold} ms": value the window's.
    private sealed class BelowReason(double thresholdMs) : ReasonTemplate
    {
        private readonly string _tail = $" ≤ {Ms(thresholdMs)}";

        public double ThresholdMs => thresholdMs;

        public override string Format(double value, int first, int second, int third) => Ms(value) + _tail;
    }
}
