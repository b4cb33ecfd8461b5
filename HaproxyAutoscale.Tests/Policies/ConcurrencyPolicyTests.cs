using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>The <c>concurrency</c> policy evaluation by evaluation, one second apart.</summary>
public sealed class ConcurrencyPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 15, 0, 0, TimeSpan.Zero);

    private static IScalingPolicy Create(params (string Key, string Value)[] settings)
    {
        var errors = new List<string>();
        IScalingPolicy? policy = new ScalingPolicyRegistry().TryCreate(new PolicySettings(ScalingPolicyNames.Concurrency, settings.ToDictionary(s => s.Key, s => s.Value)), errors);
        errors.Should().BeEmpty();
        return policy!;
    }

    private static ScalingContext At(int second, double? inFlight, int active, int min = 1, int max = 8, bool saturated = false, DateTimeOffset? lastRequest = null) =>
        new("app", T0.AddSeconds(second), WindowValue.Empty, active, min, max, saturated, lastRequest ?? T0.AddSeconds(second), T0, 0) { InFlight = inFlight };

    [Fact]
    public void Stable_DesiredIsTheStableWindowsMeanOverTheTarget()
    {
        IScalingPolicy policy = Create(("targetInFlight", "10"));
        policy.Decide(At(1, 30, active: 2)).Should().Be(ScalingDecision.Up(1, "in-flight 30 over 1m (target 10 per server): desired 3"));
        policy.Decide(At(2, 10, active: 3)).Reason.Should().Be("in-flight 20 over 1m (target 10 per server): desired 2, held at 3 by the stabilization period");
    }

    [Fact]
    public void Panic_BurstScalesUpAtOnce_NoScaleDownWhilePanicking_ThenStabilizedScaleDown()
    {
        IScalingPolicy policy = Create(("targetInFlight", "10"), ("scaleDownStabilization", "60s"));
        for (int second = 1; second <= 60; second++)
        {
            policy.Decide(At(second, 8, active: 1)).Action.Should().Be(ScalingAction.Hold);
        }

        // The 6 s window (five 8s and a 100) asks for 3 ≥ 2 × 1 active: up to 3 at once; the 60 s mean (9.5) alone
        // would ask for 1.
        ScalingDecision panic = policy.Decide(At(61, 100, active: 1));
        (panic.Action, panic.Servers).Should().Be((ScalingAction.Up, 2));
        panic.Reason.Should().Be("panic: in-flight 23.3 over 6s (target 10 per server), desired 3, no scale-down until 15:02:01");

        // The burst is over, but panic lasts a stable window from its last trigger: no scale-down.
        for (int second = 62; second < 121; second++)
        {
            ScalingDecision decision = policy.Decide(At(second, 4, active: 3));
            decision.Action.Should().NotBe(ScalingAction.Down, $"at {second} s");
            if (second == 62)
            {
                decision.Reason.Should().Be("panic: in-flight 22.7 over 6s (target 10 per server), desired 3, no scale-down until 15:02:01", "a panic's hold keeps its figures, formatted when read");
            }
        }

        policy.Decide(At(121, 4, active: 3)).Action.Should().Be(ScalingAction.Hold, "the highest recommendation of the last 60 s is still 3");
        ScalingDecision down = policy.Decide(At(181, 4, active: 3));
        (down.Action, down.Servers).Should().Be((ScalingAction.Down, 2));
    }

    [Fact]
    public void NoRequestEnded_Holds_NoServerAtAll_AsksForOne_Idle_GoesDown()
    {
        IScalingPolicy policy = Create();
        policy.Decide(At(1, null, active: 2)).Should().Be(ScalingDecision.Hold("no request ended since the last evaluation"));
        policy.Decide(At(2, null, active: 0, min: 0, saturated: true)).Should().Be(ScalingDecision.Up(1, "saturated (<NOSRV>): no server in rotation"));
        policy.Decide(At(400, null, active: 2, lastRequest: T0)).Should().Be(ScalingDecision.Down(1, "no request for 6m 40s"));
    }

    [Fact]
    public void Options_DefaultsAndRules()
    {
        var defaults = new ConcurrencyPolicyOptions();
        (defaults.TargetInFlight, defaults.StableWindow, defaults.PanicWindow, defaults.PanicThreshold, defaults.ScaleDownStabilization, defaults.IdleScaleDown)
            .Should().Be((4.0, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(6), 2.0, TimeSpan.FromSeconds(300), TimeSpan.FromMinutes(5)));
        FluentActions.Invoking(() => ScalingPolicies.Concurrency(new ConcurrencyPolicyOptions { TargetInFlight = 0, PanicWindow = TimeSpan.FromMinutes(2), PanicThreshold = 1 }))
            .Should().Throw<ArgumentException>().WithMessage(
                "The 'concurrency' policy options have 3 problem(s): targetInFlight: must be a number of requests more than 0; panicWindow: must be more than 0 and at most the stableWindow; panicThreshold: must be a number more than 1");
    }
}
