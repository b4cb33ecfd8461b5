using HaproxyAutoscale.Capacity;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>The <c>concurrency</c> policy with a learned capacity: bursts sized by arrivals ÷ the capacity per server within the SLO.</summary>
public sealed class ConcurrencyLearnedSizingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);

    private static IScalingPolicy Create(params (string Key, string Value)[] settings)
    {
        var errors = new List<string>();
        IScalingPolicy? policy = new ScalingPolicyRegistry().TryCreate(new PolicySettings(ScalingPolicyNames.Concurrency, settings.ToDictionary(s => s.Key, s => s.Value)), errors);
        errors.Should().BeEmpty();
        return policy!;
    }

    private static ScalingContext At(int second, double arrivals, int active, double perServer, bool confident = true) =>
        new("app", T0.AddSeconds(second), WindowValue.Empty, active, 1, 8, false, T0.AddSeconds(second), T0, 0)
        {
            InFlight = 8, // in-flight alone asks for two servers (target 4)
            ArrivalRate = arrivals,
            Capacity = new LearnedCapacity { Workers = 2, ServiceMeanMs = 40, Confident = confident, PerServerAtSlo = perServer, SloP95Ms = 200 },
        };

    [Fact]
    public void Decide_ServiceTimeDoubled_TheLearnedCapacityHalvesAndTheBurstSizingDoublesTheServers()
    {
        IScalingPolicy policy = Create();
        for (int second = 1; second <= 6; second++)
        {
            policy.Decide(At(second, arrivals: 60, active: 2, perServer: 30)).Action.Should().Be(ScalingAction.Hold, "60 req/s ÷ 30 per server: the 2 active servers");
        }

        // The app got twice as slow: the learned capacity per server halves, the same arrivals need 4 servers.
        ScalingDecision decision = policy.Decide(At(7, arrivals: 60, active: 2, perServer: 15));

        decision.Should().Be(ScalingDecision.Up(2, decision.Reason));
        decision.Reason.Should().StartWith("panic: in-flight 8 over 6s (target 4 per server), arrivals 60/s ÷ 15 per server learned within p95 200 ms, desired 4");
    }

    [Theory]
    [InlineData(false, "learned")]
    [InlineData(true, "in-flight")]
    public void Decide_NotConfidentOrSizedByInFlight_InFlightOnly(bool confident, string sizing)
    {
        IScalingPolicy policy = Create(("sizing", sizing));

        policy.Decide(At(1, arrivals: 60, active: 2, perServer: 15, confident)).Action.Should().Be(ScalingAction.Hold, "in-flight 8 ÷ 4: the 2 active servers");
    }

    [Fact]
    public void Create_TargetInFlightSet_SizedByInFlight_UnlessToldOtherwise()
    {
        // In-flight 8 ÷ 3: the 3 active servers; arrivals 60 ÷ 10 per server: 6, a burst (twice the active ones).
        Create(("targetInFlight", "3")).Decide(At(1, arrivals: 60, active: 3, perServer: 10)).Action.Should().Be(ScalingAction.Hold, "an explicit target overrides the learned capacity");
        Create(("targetInFlight", "3"), ("sizing", "learned")).Decide(At(1, arrivals: 60, active: 3, perServer: 10)).Should().Match<ScalingDecision>(d => d.Action == ScalingAction.Up && d.Servers == 3);

        var errors = new List<string>();
        new ScalingPolicyRegistry().TryCreate(new PolicySettings(ScalingPolicyNames.Concurrency, new Dictionary<string, string> { ["sizing"] = "guess" }), errors);
        errors.Should().ContainSingle(e => e.EndsWith("sizing: 'guess' is not learned or in-flight", StringComparison.Ordinal));
    }
}
