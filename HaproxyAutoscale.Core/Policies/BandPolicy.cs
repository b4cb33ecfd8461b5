using HaproxyAutoscale.Configuration;
using static HaproxyAutoscale.Policies.ThresholdPolicy;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// Options of the <c>band</c> policy. A setting left out of the configuration keeps the default here. Rules, for
/// configuration and for <see cref="ScalingPolicies.Band"/> alike: both bounds set and more than 0,
/// <see cref="LowerMs"/> below <see cref="UpperMs"/>, breaches and steps at least 1, durations not negative.
/// </summary>
public sealed class BandPolicyOptions
{
    /// <summary>Above this, an evaluation is a breach. Required.</summary>
    public double UpperMs { get; set; }

    /// <summary>Below this, an evaluation votes for scaling down. Required, below <see cref="UpperMs"/>.</summary>
    public double LowerMs { get; set; }

    /// <summary>Consecutive breaches before scaling up.</summary>
    /// <value>The default is 3.</value>
    public int Breaches { get; set; } = 3;

    /// <summary>Least time between two scale-ups.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan ScaleUpCooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Least time after any scaling before a scale-down.</summary>
    /// <value>The default is 2 minutes.</value>
    public TimeSpan ScaleDownCooldown { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Every evaluation of this period must be below <see cref="LowerMs"/> before a scale-down.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan Stabilization { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Most servers added at once.</summary>
    /// <value>The default is 1.</value>
    public int MaxStepUp { get; set; } = 1;

    /// <summary>Most servers removed at once.</summary>
    /// <value>The default is 1.</value>
    public int MaxStepDown { get; set; } = 1;

    /// <summary>Without any request for this long, one server goes; the next idle period takes the next one. Zero turns it off.</summary>
    /// <value>The default is 5 minutes, as the <c>threshold</c> policy.</value>
    public TimeSpan IdleScaleDown { get; set; } = TimeSpan.FromMinutes(5);

    // The rules, the same for settings read from configuration and for options built in code.
    internal void Validate(Action<string, string> addError)
    {
        PolicyRules.RequiredMilliseconds(ScalingPolicyNames.Band, "upperMs", UpperMs, addError);
        PolicyRules.RequiredMilliseconds(ScalingPolicyNames.Band, "lowerMs", LowerMs, addError);
        if (LowerMs > 0 && UpperMs > 0 && LowerMs >= UpperMs)
        {
            addError("lowerMs", $"must be below upperMs ({UpperMs.ToString(System.Globalization.CultureInfo.InvariantCulture)})");
        }

        PolicyRules.AtLeastOne("breaches", Breaches, addError);
        PolicyRules.NotNegative("scaleUpCooldown", ScaleUpCooldown, addError);
        PolicyRules.NotNegative("scaleDownCooldown", ScaleDownCooldown, addError);
        PolicyRules.NotNegative("stabilization", Stabilization, addError);
        PolicyRules.AtLeastOne("maxStepUp", MaxStepUp, addError);
        PolicyRules.AtLeastOne("maxStepDown", MaxStepDown, addError);
        PolicyRules.NotNegative("idleScaleDown", IdleScaleDown, addError);
    }
}

/// <summary>
/// Upper and lower thresholds with hysteresis: up after <see cref="BandPolicyOptions.Breaches"/> evaluations above
/// the upper bound (saturation counts), down only when every evaluation of the stabilization period was below the
/// lower bound, each direction with its cooldown. Between the bounds nothing happens, which keeps it from flapping.
/// Without requests, the idle rule takes servers away one idle period at a time.
/// </summary>
internal sealed class BandPolicy : IScalingPolicy, ILatencyObjective, IScalingPolicyFeedback
{
    private readonly BandPolicyOptions _options;
    private readonly IdleRule _idle;
    private int _consecutiveBreaches;
    private DateTimeOffset? _belowSince;
    private DateTimeOffset _lastScaleUp = DateTimeOffset.MinValue;
    private DateTimeOffset _lastScaling = DateTimeOffset.MinValue;
    private (int Breaches, DateTimeOffset? BelowSince, DateTimeOffset LastScaleUp, DateTimeOffset LastScaling) _beforeAction;
    private BandReason? _band; // the reason's fixed parts for the band of the options

    public BandPolicy(BandPolicyOptions options) => (_options, _idle) = (options, new IdleRule(options.IdleScaleDown));

    public double ObjectiveMs => _options.UpperMs;

    // Defaults come from the options class: a setting left out keeps it.
    public static IScalingPolicy Create(PolicySettings settings)
    {
        var options = new BandPolicyOptions();
        options.UpperMs = settings.GetNumber("upperMs", options.UpperMs);
        options.LowerMs = settings.GetNumber("lowerMs", options.LowerMs);
        options.Breaches = settings.GetInteger("breaches", options.Breaches);
        options.ScaleUpCooldown = settings.GetDuration("scaleUpCooldown", options.ScaleUpCooldown);
        options.ScaleDownCooldown = settings.GetDuration("scaleDownCooldown", options.ScaleDownCooldown);
        options.Stabilization = settings.GetDuration("stabilization", options.Stabilization);
        options.MaxStepUp = settings.GetInteger("maxStepUp", options.MaxStepUp);
        options.MaxStepDown = settings.GetInteger("maxStepDown", options.MaxStepDown);
        options.IdleScaleDown = settings.GetDuration("idleScaleDown", options.IdleScaleDown);
        options.Validate(settings.AddError);
        return new BandPolicy(options);
    }

    public ScalingDecision Decide(ScalingContext context)
    {
        // Cooldowns run from the later of this policy's last action and the engine's record of its completion.
        _lastScaleUp = Later(_lastScaleUp, context.LastScaleUpCompleted);
        _lastScaling = Later(Later(_lastScaling, context.LastScaleUpCompleted), context.LastScaleDownCompleted);
        if (_idle.Decide(context) is { } idle)
        {
            _beforeAction = (_consecutiveBreaches, _belowSince, _lastScaleUp, _lastScaling);
            (_consecutiveBreaches, _belowSince) = (0, null);
            return idle;
        }

        WindowValueOrSaturation(context, out bool breach, out bool below, out DecisionReason what);
        _consecutiveBreaches = breach ? _consecutiveBreaches + 1 : 0;
        _belowSince = below ? _belowSince ?? context.Now : null;
        _beforeAction = (_consecutiveBreaches, _belowSince, _lastScaleUp, _lastScaling);

        if (breach)
        {
            if (_consecutiveBreaches < _options.Breaches)
            {
                return ScalingDecision.Hold($"{what}, breach {_consecutiveBreaches} of {_options.Breaches}");
            }

            if (context.Now - _lastScaleUp < _options.ScaleUpCooldown)
            {
                return ScalingDecision.Hold($"{what}, but in scale-up cooldown until {_lastScaleUp + _options.ScaleUpCooldown:HH:mm:ss}");
            }

            ScalingDecision up = ScalingDecision.Up(_options.MaxStepUp, $"{what} on {_consecutiveBreaches} consecutive evaluations").WithinBounds(context);
            if (up.Action == ScalingAction.Up)
            {
                _lastScaleUp = _lastScaling = context.Now;
                _consecutiveBreaches = 0;
            }

            return up;
        }

        if (_belowSince is { } belowSince && context.Now - belowSince >= _options.Stabilization)
        {
            if (context.Now - _lastScaling < _options.ScaleDownCooldown)
            {
                return ScalingDecision.Hold($"{what}, but in scale-down cooldown until {_lastScaling + _options.ScaleDownCooldown:HH:mm:ss}");
            }

            ScalingDecision down = ScalingDecision.Down(_options.MaxStepDown, $"{what} for {Durations.Format(context.Now - belowSince)}").WithinBounds(context);
            if (down.Action == ScalingAction.Down)
            {
                _lastScaling = context.Now;
                _belowSince = context.Now; // the next step needs a new stabilization period
            }

            return down;
        }

        return new ScalingDecision(ScalingAction.Hold, 0, what); // within the band, or below it not long enough yet: figures kept
    }

    // The engine did not carry the decision out: no cooldown starts, the breaches and the stabilization still count.
    public void OnHeld(ScalingDecision decision, string gate)
    {
        (_consecutiveBreaches, _belowSince, _lastScaleUp, _lastScaling) = _beforeAction;
        if (decision.Action == ScalingAction.Down)
        {
            _idle.Held();
        }
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset? b) => b is { } v && v > a ? v : a;

    private void WindowValueOrSaturation(in ScalingContext context, out bool breach, out bool below, out DecisionReason what)
    {
        if (context.Saturated)
        {
            (breach, below, what) = (true, false, new DecisionReason("saturated (<NOSRV> or queueing)"));
        }
        else if (!context.HasFreshData)
        {
            (breach, below, what) = (false, false, new DecisionReason("no new samples"));
        }
        else
        {
            double value = context.Window.Value;
            breach = value > _options.UpperMs;
            below = value < _options.LowerMs;
            if (_band is null || _band.LowerMs != _options.LowerMs || _band.UpperMs != _options.UpperMs)
            {
                _band = new BandReason(_options.LowerMs, _options.UpperMs);
            }

            what = new DecisionReason(_band, value, breach ? BandReason.Above : below ? BandReason.Below : BandReason.Within);
        }
    }

    // The window's value against the band: "{value} ms > {upper} ms", "… < {lower} ms", "… within [{lower} ms, {upper} ms]".
    private sealed class BandReason(double lowerMs, double upperMs) : ReasonTemplate
    {
        public const int Within = 0, Below = 1, Above = 2;
        private readonly string _above = $" > {Ms(upperMs)}", _below = $" < {Ms(lowerMs)}", _within = $" within [{Ms(lowerMs)}, {Ms(upperMs)}]";

        public double LowerMs => lowerMs;

        public double UpperMs => upperMs;

        public override string Format(double value, int first, int second, int third) => Ms(value) + first switch
        {
            Above => _above,
            Below => _below,
            _ => _within,
        };
    }
}
