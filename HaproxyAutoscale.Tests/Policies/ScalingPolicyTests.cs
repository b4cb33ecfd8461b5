using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>Each policy driven evaluation by evaluation, one second apart, with the context it would get.</summary>
public sealed class ScalingPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 15, 0, 0, TimeSpan.Zero);

    private static IScalingPolicy Create(string kind, params (string Key, string Value)[] settings)
    {
        var errors = new List<string>();
        IScalingPolicy? policy = new ScalingPolicyRegistry().TryCreate(new PolicySettings(kind, settings.ToDictionary(s => s.Key, s => s.Value)), errors);
        errors.Should().BeEmpty();
        return policy!;
    }

    private static ScalingContext At(int second, double? value, int active = 1, int min = 1, int max = 3, bool saturated = false, DateTimeOffset? lastRequest = null, int newSamples = 5) =>
        new("app", T0.AddSeconds(second), value is { } v ? new WindowValue(v, 15) : WindowValue.Empty, active, min, max, saturated,
            lastRequest ?? T0.AddSeconds(second), T0, value is null ? 0 : newSamples);

    [Fact]
    public void Hold_ReasonKeptAsFigures_ReadsAsTheFormattedText()
    {
        // The built-in policies keep a hold's figures and format them when the reason is read: the same text as before.
        Create(ScalingPolicyNames.Threshold).Decide(At(1, 12.345)).Reason.Should().Be("12.3 ms ≤ 800 ms");
        IScalingPolicy band = Create(ScalingPolicyNames.Band, ("upperMs", "800"), ("lowerMs", "300.25"));
        band.Decide(At(1, 500)).Reason.Should().Be("500 ms within [300.3 ms, 800 ms]");
        band.Decide(At(2, 100)).Reason.Should().Be("100 ms < 300.3 ms");
        IScalingPolicy target = Create(ScalingPolicyNames.Target, ("targetMs", "100"));
        ScalingDecision hold = target.Decide(At(1, 105, active: 2));
        hold.Should().Be(ScalingDecision.Hold("105 ms vs target 100 ms: desired 2"));
        hold.GetHashCode().Should().Be(ScalingDecision.Hold("105 ms vs target 100 ms: desired 2").GetHashCode());
        Create(ScalingPolicyNames.Concurrency).Decide(At(1, 10) with { InFlight = 2.25 }).Reason.Should().Be("in-flight 2.3 over 1m (target 4 per server): desired 1");
        default(ScalingDecision).Reason.Should().BeNull();
    }

    [Fact]
    public void Threshold_OriginalSequence_ThreeBreachesUp_IdleDownReArmed()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Threshold);
        policy.Decide(At(1, 900)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(2, 900)).Reason.Should().Be("900 ms > 800 ms, breach 2 of 3");
        ScalingDecision up = policy.Decide(At(3, 900));
        up.Should().Be(ScalingDecision.Up(1, "900 ms > 800 ms on 3 consecutive evaluations"));

        // Consecutive means consecutive: a good evaluation resets the count.
        policy.Decide(At(4, 900, active: 2)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(5, 100, active: 2)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(6, 900, active: 2)).Reason.Should().EndWith("breach 1 of 3");

        // Last request at 6 s; after 5 minutes without requests one server goes, then the next after 5 more.
        DateTimeOffset last = T0.AddSeconds(6);
        policy.Decide(At(305, null, active: 3, lastRequest: last)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(306, null, active: 3, lastRequest: last)).Should().Be(ScalingDecision.Down(1, "no request for 5m"));
        policy.Decide(At(307, null, active: 2, lastRequest: last)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(606, null, active: 2, lastRequest: last)).Should().Be(ScalingDecision.Down(1, "no request for 10m"));
        policy.Decide(At(906, null, active: 1, lastRequest: last)).Reason.Should().Contain("already at the minimum of 1 active");
    }

    [Fact]
    public void Threshold_NoNewSamples_HoldsAndNeverScalesDownOnMissingLatency()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Threshold);
        policy.Decide(At(1, null, active: 3)).Should().Be(ScalingDecision.Hold("no new samples"));

        // A count window keeps its last (slow) samples during silence: without new samples they do not vote.
        policy.Decide(At(2, 900, active: 3, newSamples: 0)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(3, 900, active: 3, newSamples: 0)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(4, 900, active: 2, newSamples: 0)).Reason.Should().Be("no new samples");
    }

    [Fact]
    public void Threshold_Saturation_IsABreachEvenWithoutSamples()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Threshold, ("breaches", "2"));
        policy.Decide(At(1, null, saturated: true)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(2, 10, saturated: true)).Should().Be(ScalingDecision.Up(1, "saturated (<NOSRV> or queueing) on 2 consecutive evaluations"));
    }

    [Fact]
    public void Threshold_EverythingUp_HoldsAndSaysWhy()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Threshold, ("breaches", "1"));
        policy.Decide(At(1, 900, active: 3, max: 3)).Should().Be(ScalingDecision.Hold("900 ms > 800 ms on 1 consecutive evaluations, but already at the maximum of 3 active"));
    }

    [Fact]
    public void Band_OscillatingAroundUpperBound_DoesNotFlap()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Band, ("upperMs", "800"), ("lowerMs", "300"), ("stabilization", "60s"));
        for (int second = 1; second <= 600; second++)
        {
            policy.Decide(At(second, second % 2 == 0 ? 810 : 790, active: 2)).Action.Should().Be(ScalingAction.Hold, $"at {second} s");
        }
    }

    [Fact]
    public void Band_CooldownsStabilizationAndSteps()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Band, ("upperMs", "800"), ("lowerMs", "300"), ("breaches", "2"),
            ("scaleUpCooldown", "30s"), ("scaleDownCooldown", "60s"), ("stabilization", "20s"), ("maxStepUp", "2"), ("maxStepDown", "1"));
        policy.Decide(At(1, 1000, active: 1, max: 5)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(2, 1000, active: 1, max: 5)).Should().Be(ScalingDecision.Up(2, "1000 ms > 800 ms on 2 consecutive evaluations"));
        policy.Decide(At(3, 1000, active: 3, max: 5)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(4, 1000, active: 3, max: 5)).Reason.Should().Contain("scale-up cooldown");
        policy.Decide(At(32, 1000, active: 3, max: 5)).Should().Be(ScalingDecision.Up(2, "1000 ms > 800 ms on 3 consecutive evaluations"));

        // Below the lower bound: nothing before 20 s of agreement, and a single higher value restarts the period.
        for (int s = 40; s < 60; s++)
        {
            policy.Decide(At(s, 100, active: 5, max: 5)).Action.Should().Be(ScalingAction.Hold);
        }

        policy.Decide(At(60, 500, active: 5, max: 5)).Action.Should().Be(ScalingAction.Hold);
        for (int s = 61; s < 81; s++)
        {
            policy.Decide(At(s, 100, active: 5, max: 5)).Action.Should().Be(ScalingAction.Hold);
        }

        // Stabilized at 81 s, but the last scaling (32 s) is within the 60 s scale-down cooldown until 92 s.
        policy.Decide(At(81, 100, active: 5, max: 5)).Reason.Should().Contain("scale-down cooldown");
        policy.Decide(At(92, 100, active: 5, max: 5)).Should().Be(ScalingDecision.Down(1, "100 ms < 300 ms for 31s"));
    }

    [Fact]
    public void Band_LowerNotBelowUpper_IsAConfigurationError()
    {
        var errors = new List<string>();
        new ScalingPolicyRegistry().TryCreate(new PolicySettings("band", new Dictionary<string, string> { ["upperMs"] = "300", ["lowerMs"] = "500" }, "backends.app.policy"), errors);
        errors.Should().Equal("backends.app.policy.lowerMs: must be below upperMs (300)");
    }

    [Fact]
    public void Target_DesiredIsCeilOfActiveTimesRatio_WithinToleranceHolds()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Target, ("targetMs", "200"), ("maxStep", "5"));
        policy.Decide(At(1, 210, active: 2, max: 10)).Action.Should().Be(ScalingAction.Hold, "5 % off target is within the 10 % tolerance");
        policy.Decide(At(2, 500, active: 2, max: 10)).Should().Be(ScalingDecision.Up(3, "500 ms vs target 200 ms: desired 5"));
    }

    [Fact]
    public void Target_OscillatingInput_NeverScalesDownWithinTheStabilizationWindow()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Target, ("targetMs", "100"));
        var actions = new List<ScalingAction>();
        for (int second = 1; second <= 299; second++)
        {
            actions.Add(policy.Decide(At(second, second % 2 == 0 ? 104 : 96, active: 3, max: 10)).Action);
        }

        actions.Should().OnlyContain(a => a == ScalingAction.Hold, "±4 % is within tolerance");

        // Load goes away: the recommendation drops to 1, but the highest of the last 300 s (3) holds.
        policy.Decide(At(300, 20, active: 3, max: 10)).Reason.Should().Contain("held at 3 by the stabilization window");
        for (int second = 301; second < 600; second++)
        {
            policy.Decide(At(second, 20, active: 3, max: 10)).Action.Should().Be(ScalingAction.Hold, $"at {second} s");
        }

        policy.Decide(At(600, 20, active: 3, max: 10)).Should().Be(ScalingDecision.Down(2, "20 ms vs target 100 ms: desired 1, highest in the last 5m: 1"));
    }

    [Fact]
    public void Target_SaturatedOrNoData()
    {
        IScalingPolicy policy = Create(ScalingPolicyNames.Target, ("targetMs", "100"));
        policy.Decide(At(1, null, active: 2)).Should().Be(ScalingDecision.Hold("no new samples"));
        policy.Decide(At(2, 50, active: 2, saturated: true)).Action.Should().Be(ScalingAction.Up);
    }

    [Theory]
    [InlineData(ScalingPolicyNames.Band, "upperMs", "lowerMs")]
    [InlineData(ScalingPolicyNames.Target, "targetMs", null)]
    public void BandAndTarget_IdleBackend_LoseOneServerPerIdlePeriod_ButShortSilenceHolds(string kind, string key, string? secondKey)
    {
        (string, string)[] settings = secondKey is null ? [(key, "300")] : [(key, "300"), (secondKey, "100")];
        IScalingPolicy policy = Create(kind, settings);
        DateTimeOffset last = T0.AddSeconds(10);

        // A minute without requests is only "no new samples"; five minutes is idle, and re-arms for the next five.
        policy.Decide(At(70, null, active: 3, lastRequest: last)).Should().Be(ScalingDecision.Hold("no new samples"));
        policy.Decide(At(309, null, active: 3, lastRequest: last)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(310, null, active: 3, lastRequest: last)).Should().Be(ScalingDecision.Down(1, "no request for 5m"));
        policy.Decide(At(311, null, active: 2, lastRequest: last)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(610, null, active: 2, lastRequest: last)).Should().Be(ScalingDecision.Down(1, "no request for 10m"));
        policy.Decide(At(910, null, active: 1, lastRequest: last)).Reason.Should().Contain("already at the minimum of 1 active");
    }

    [Theory]
    [InlineData(ScalingPolicyNames.Threshold)]
    [InlineData(ScalingPolicyNames.Concurrency)]
    public void IdleRule_OpenSessions_NotIdle_UntilTheyEnd(string kind)
    {
        IScalingPolicy policy = Create(kind);
        DateTimeOffset last = T0.AddSeconds(10);

        // Ten minutes without a request logged, but 12 sessions open (event streams log only when they end): 3 servers busy.
        policy.Decide(At(610, null, active: 3, lastRequest: last) with { OpenSessions = 12, InFlight = 12 }).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(611, null, active: 3, lastRequest: last) with { OpenSessions = 0 }).Should().Be(ScalingDecision.Down(1, "no request for 10m 1s"));
    }

    [Theory]
    [InlineData(ScalingPolicyNames.Threshold, null, null)]
    [InlineData(ScalingPolicyNames.Band, "upperMs", "lowerMs")]
    [InlineData(ScalingPolicyNames.Target, "targetMs", null)]
    public void IdleScaleDownZero_TurnsTheIdleRuleOff(string kind, string? key, string? secondKey)
    {
        List<(string, string)> settings = [("idleScaleDown", "0s")];
        if (key is not null)
        {
            settings.Add((key, "300"));
        }

        if (secondKey is not null)
        {
            settings.Add((secondKey, "100"));
        }

        IScalingPolicy policy = Create(kind, [.. settings]);
        policy.Decide(At(3600, null, active: 3, lastRequest: T0)).Should().Be(ScalingDecision.Hold("no new samples"));
    }

    [Fact]
    public void WithinBounds_ClampsToMinAndMax()
    {
        ScalingContext context = At(1, 100, active: 2, min: 1, max: 3);
        ScalingDecision.Up(5, "r").WithinBounds(context).Should().Be(ScalingDecision.Up(1, "r"));
        ScalingDecision.Down(5, "r").WithinBounds(context).Should().Be(ScalingDecision.Down(1, "r"));
        ScalingDecision.Down(1, "r").WithinBounds(At(1, 100, active: 1, min: 1)).Action.Should().Be(ScalingAction.Hold);
    }

    [Fact]
    public void Registry_NamesAreCaseInsensitive_DuplicatesAndUnknownsRejected()
    {
        var registry = new ScalingPolicyRegistry();
        registry.Contains("THRESHOLD").Should().BeTrue();
        FluentActions.Invoking(() => registry.Add("Band", _ => new AlwaysUp())).Should().Throw<ArgumentException>().WithMessage("*already registered*");

        var errors = new List<string>();
        registry.TryCreate(new PolicySettings("nope", new Dictionary<string, string>(), "backends.app.policy"), errors).Should().BeNull();
        errors.Should().Equal("backends.app.policy.kind: unknown policy 'nope' (known: band, concurrency, target, threshold)");

        errors.Clear();
        registry.TryCreate(new PolicySettings("threshold", new Dictionary<string, string> { ["thresholdMS"] = "x", ["breachs"] = "3" }, "p"), errors);
        errors.Should().Equal("p.thresholdMS: 'x' is not a number", "p.breachs: unknown setting for the 'threshold' policy");
    }

    [Fact]
    public void Defaults_OfEachBuiltInPolicy_ArePinned()
    {
        var threshold = new ThresholdPolicyOptions();
        (threshold.ThresholdMs, threshold.Breaches, threshold.IdleScaleDown).Should().Be((800d, 3, TimeSpan.FromMinutes(5)));

        var band = new BandPolicyOptions();
        (band.UpperMs, band.LowerMs, band.Breaches, band.MaxStepUp, band.MaxStepDown).Should().Be((0d, 0d, 3, 1, 1));
        (band.ScaleUpCooldown, band.ScaleDownCooldown, band.Stabilization, band.IdleScaleDown).Should()
            .Be((TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5)));

        var target = new TargetPolicyOptions();
        (target.TargetMs, target.Tolerance, target.ScaleDownStabilization, target.MaxStep, target.IdleScaleDown).Should()
            .Be((0d, 0.1, TimeSpan.FromSeconds(300), 2, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void Defaults_ASettingLeftOut_KeepsTheOptionsDefault()
    {
        // The factory binds onto a fresh options instance: no second copy of the defaults to drift.
        ((ILatencyObjective)Create(ScalingPolicyNames.Threshold)).ObjectiveMs.Should().Be(new ThresholdPolicyOptions().ThresholdMs);
        IScalingPolicy policy = Create(ScalingPolicyNames.Threshold);
        policy.Decide(At(1, 801)).Reason.Should().Be("801 ms > 800 ms, breach 1 of 3");
        policy.Decide(At(2, 801)).Action.Should().Be(ScalingAction.Hold);
        policy.Decide(At(3, 801)).Action.Should().Be(ScalingAction.Up);
    }

    [Theory]
    [InlineData(ScalingPolicyNames.Threshold, "thresholdMs", 250)]
    [InlineData(ScalingPolicyNames.Band, "upperMs", 250)]
    [InlineData(ScalingPolicyNames.Target, "targetMs", 250)]
    public void LatencyObjective_IsThePolicysReferenceLatency(string kind, string key, double ms)
    {
        List<(string, string)> settings = [(key, ms.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        if (kind == ScalingPolicyNames.Band)
        {
            settings.Add(("lowerMs", "100"));
        }

        Create(kind, [.. settings]).Should().BeAssignableTo<ILatencyObjective>().Which.ObjectiveMs.Should().Be(ms);
    }

    [Fact]
    public void ScalingPolicies_FromOptionsInCode_SameRulesAsSettings()
    {
        var invalid = new BandPolicyOptions { UpperMs = 300, LowerMs = 500, Breaches = 0 };
        FluentActions.Invoking(() => ScalingPolicies.Band(invalid)).Should().Throw<ArgumentException>()
            .WithMessage("The 'band' policy options have 2 problem(s): lowerMs: must be below upperMs (300); breaches: must be at least 1, not 0");
        FluentActions.Invoking(() => ScalingPolicies.Target(new TargetPolicyOptions())).Should().Throw<ArgumentException>()
            .WithMessage("*targetMs: required by the 'target' policy: a number of milliseconds more than 0");
        FluentActions.Invoking(() => ScalingPolicies.Threshold(new ThresholdPolicyOptions { IdleScaleDown = TimeSpan.FromSeconds(-1) })).Should().Throw<ArgumentException>()
            .WithMessage("*idleScaleDown: must not be negative");

        IScalingPolicy policy = ScalingPolicies.Threshold(new ThresholdPolicyOptions { ThresholdMs = 100, Breaches = 1 });
        policy.Decide(At(1, 150)).Should().Be(ScalingDecision.Up(1, "150 ms > 100 ms on 1 consecutive evaluations"));

        // Registered under a name of its own, a factory that throws is a configuration problem, not a crash.
        var registry = new ScalingPolicyRegistry().Add("strict", _ => ScalingPolicies.Band(invalid));
        var errors = new List<string>();
        registry.TryCreate(new PolicySettings("strict", new Dictionary<string, string>(), "backends.app.policy"), errors).Should().BeNull();
        errors.Should().ContainSingle().Which.Should().StartWith("backends.app.policy: The 'band' policy options have 2 problem(s)");
    }

    [Fact]
    public void Settings_RulesOfTheOptions_ReportedWithTheirPaths()
    {
        var errors = new List<string>();
        new ScalingPolicyRegistry().TryCreate(new PolicySettings("band", new Dictionary<string, string> { ["maxStepUp"] = "0", ["upperMs"] = "NaN" }, "backends.app.policy"), errors);
        errors.Should().Equal(
            "backends.app.policy.upperMs: 'NaN' is not a number",
            "backends.app.policy.upperMs: required by the 'band' policy: a number of milliseconds more than 0",
            "backends.app.policy.lowerMs: required by the 'band' policy: a number of milliseconds more than 0",
            "backends.app.policy.maxStepUp: must be at least 1, not 0");
    }

    [Fact]
    public void Registry_CustomPolicy_PlugsInAndRuns()
    {
        var registry = new ScalingPolicyRegistry().Add("always-up", settings => new AlwaysUp(settings.GetInt32("step", 1, minimum: 1)));
        var errors = new List<string>();
        IScalingPolicy policy = registry.TryCreate(new PolicySettings("ALWAYS-UP", new Dictionary<string, string> { ["step"] = "2" }), errors)!;
        errors.Should().BeEmpty();
        policy.Decide(At(1, 5, active: 1, max: 10)).Should().Be(ScalingDecision.Up(2, "custom"));
    }

    private sealed class AlwaysUp(int step = 1) : IScalingPolicy
    {
        public ScalingDecision Decide(ScalingContext context) => ScalingDecision.Up(step, "custom");
    }
}
