using HaproxyAutoscale.Configuration;
using Microsoft.Extensions.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>A decision the engine held back does not count as an action: breach counts and cooldowns stay as they were.</summary>
public sealed class PolicyFeedbackTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 15, 0, 0, TimeSpan.Zero);

    private static ScalingContext At(int second, double value, int active = 1, DateTimeOffset? upCompleted = null) =>
        new("app", T0.AddSeconds(second), new WindowValue(value, 15), active, 1, 4, false, T0.AddSeconds(second), T0, 5) { LastScaleUpCompleted = upCompleted };

    [Fact]
    public void Threshold_HeldScaleUp_KeepsItsBreaches()
    {
        IScalingPolicy policy = ScalingPolicies.Threshold(new ThresholdPolicyOptions());
        policy.Decide(At(1, 900));
        policy.Decide(At(2, 900));
        ScalingDecision up = policy.Decide(At(3, 900));
        up.Action.Should().Be(ScalingAction.Up);
        ((IScalingPolicyFeedback)policy).OnHeld(up, "paused");
        policy.Decide(At(4, 900)).Should().Be(ScalingDecision.Up(1, "900 ms > 800 ms on 3 consecutive evaluations"), "the breaches still count");
        policy.Decide(At(5, 900, active: 2)).Reason.Should().EndWith("breach 1 of 3", "this one was carried out");
    }

    [Fact]
    public void Band_HeldScaleUp_StartsNoCooldown_AndTheCooldownRunsFromCompletion()
    {
        IScalingPolicy policy = ScalingPolicies.Band(new BandPolicyOptions { UpperMs = 500, LowerMs = 100, Breaches = 1, ScaleUpCooldown = TimeSpan.FromSeconds(30) });
        ScalingDecision up = policy.Decide(At(1, 900));
        up.Action.Should().Be(ScalingAction.Up);
        ((IScalingPolicyFeedback)policy).OnHeld(up, "settle");
        policy.Decide(At(2, 900)).Action.Should().Be(ScalingAction.Up, "a held decision starts no cooldown");

        // Carried out at 2 s, completed (warm-up done) at 12 s: the cooldown runs until 42 s.
        policy.Decide(At(40, 900, active: 2, upCompleted: T0.AddSeconds(12))).Reason.Should().Be("900 ms > 500 ms, but in scale-up cooldown until 15:00:42");
        policy.Decide(At(42, 900, active: 2, upCompleted: T0.AddSeconds(12))).Action.Should().Be(ScalingAction.Up);
    }

    [Fact]
    public void BehaviorAndSchedule_BadValues_ReportedWithTheirPaths()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse("""
            {
              "backends": {
                "app": {
                  "selection": "fewest",
                  "behavior": { "up": { "tolerance": -1, "maxStep": 0, "minIdleBeforePark": "1m" }, "down": { "cooldown": "-5s" } },
                  "schedule": [ { "cron": "0 25 * * *", "for": "0s", "minActive": 9, "timeZone": "Mars/Olympus" } ],
                  "servers": { "s1": { "alwaysUp": true }, "s2": {} }
                }
              }
            }
            """);
        result.Errors.Should().Equal(
            "backends.app.selection: 'fewest' is not one of ordered, random, least-sessions, newest",
            "backends.app.behavior.up.minIdleBeforePark: unknown key",
            "backends.app.behavior.down.cooldown: expected a duration such as \"30s\", \"5m\", \"250ms\" or \"00:05:00\"",
            "backends.app.behavior.up.tolerance: must be a number ≥ 0",
            "backends.app.behavior.up.maxStep: must be at least 1, not 0",
            "backends.app.schedule[0].cron: '0 25 * * *' is not a cron expression (five fields: minute hour day month weekday, or six with seconds first)",
            "backends.app.schedule[0].for: required: a duration more than 0, such as \"10h\"",
            "backends.app.schedule[0].timeZone: 'Mars/Olympus' is not a time zone known to this system (an IANA id such as \"Europe/Berlin\")",
            "backends.app.schedule[0].minActive: 9 is more than the 2 configured servers");

        ConfigurationResult good = AutoscaleConfiguration.Parse("""
            { "backends": { "app": { "selection": "least-sessions",
              "behavior": { "up": { "cooldown": "10s", "maxStep": 2 }, "down": { "stabilization": "5m", "tolerance": 0.1, "minIdleBeforePark": "30s" } },
              "schedule": [ { "cron": "0 8 * * 1-5", "for": "10h", "minActive": 2, "timeZone": "Europe/Berlin" } ],
              "servers": { "s1": { "alwaysUp": true }, "s2": {} } } } }
            """);
        good.Errors.Should().BeEmpty();
        BackendOptions backend = good.Options!.Backends[0];
        (backend.Selection, backend.Behavior.Up.Cooldown, backend.Behavior.Up.MaxStep, backend.Behavior.Down.Stabilization, backend.Behavior.Down.MinIdleBeforePark, backend.Schedule[0].TimeZone)
            .Should().Be((ServerSelection.LeastSessions, TimeSpan.FromSeconds(10), (int?)2, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30), "Europe/Berlin"));
        backend.Policy.Kind.Should().Be("concurrency", "the default policy");

        // The same through IConfiguration (appsettings, environment variables): arrays are children 0, 1…
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["backends:app:servers:s1:alwaysUp"] = "true",
            ["backends:app:servers:s2:weight"] = "10",
            ["backends:app:behavior:down:minIdleBeforePark"] = "30s",
            ["backends:app:schedule:0:cron"] = "0 8 * * 1-5",
            ["backends:app:schedule:0:for"] = "10h",
            ["backends:app:schedule:0:minActive"] = "0",
        }).Build();
        ConfigurationResult fromConfiguration = AutoscaleConfiguration.Read(configuration);
        fromConfiguration.Errors.Should().Equal("backends.app.schedule[0].minActive: must be at least 1, not 0");
    }
}
