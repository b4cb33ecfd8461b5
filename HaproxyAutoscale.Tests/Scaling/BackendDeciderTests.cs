using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

public sealed class BackendDeciderTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 15, 0, 0, TimeSpan.Zero));

    private static BackendOptions Backend(ServerSelection selection = ServerSelection.Ordered)
    {
        var backend = new BackendOptions { Name = "app", Selection = selection, SettleTime = TimeSpan.FromSeconds(10) };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach (string name in new[] { "s2", "s3", "s4" })
        {
            backend.Servers.Add(new ServerOptions { Name = name });
        }

        return backend;
    }

    // A decider and the server table it reads; tests play the actuator's part by setting roles.
    private (BackendDecider Decider, ServerTable Servers) Create(BackendOptions options, IScalingPolicy policy, Random? random = null)
    {
        var servers = new ServerTable(options, _time);
        return (new BackendDecider(options, policy, ResponseTimeWindows.Create(options.Window, _time), servers, _time, random), servers);
    }

    private static RequestRecord Request(string server, int tr, int status = 200, int tw = 0) => new()
    {
        Kind = RequestKind.Http,
        Backend = "app",
        Server = server,
        StatusCode = status,
        QueueTime = tw,
        ConnectTime = 0,
        ResponseTime = tr,
        TotalTime = Math.Max(tr, 0),
    };

    [Fact]
    public void Evaluate_Ordered_FirstParkedGoesUpLastActiveGoesDown()
    {
        (BackendDecider scaler, ServerTable scalerServers) = Create(Backend(), new Fixed(ScalingDecision.Up(2, "test")));
        scaler.OnRecord(Request("s1", 10));
        scaler.Decide().Servers.Should().Equal("s2", "s3");
        scalerServers.Set("s2", ServerLifecycleState.Active);
        scalerServers.Set("s3", ServerLifecycleState.Active);

        (BackendDecider down, ServerTable downServers) = Create(Backend(), new Fixed(ScalingDecision.Down(5, "test")));
        downServers.Set("s2", ServerLifecycleState.Active);
        downServers.Set("s3", ServerLifecycleState.Active);
        ScalingPlan plan = down.Decide();
        plan.Servers.Should().Equal("s3", "s2"); // never s1: alwaysUp
        plan.Decision.Servers.Should().Be(2, "bounded by the alwaysUp minimum");
    }

    [Fact]
    public void Evaluate_Random_PicksAmongTheRightServers()
    {
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 50; seed++)
        {
            (BackendDecider scaler, _) = Create(Backend(ServerSelection.Random), new Fixed(ScalingDecision.Up(1, "test")), new Random(seed));
            string server = scaler.Decide().Servers.Single();
            server.Should().BeOneOf("s2", "s3", "s4");
            seen.Add(server);
        }

        seen.Should().HaveCount(3);
    }

    [Fact]
    public void Evaluate_WarmingCountsAsCapacity_AndMaxActiveBounds()
    {
        BackendOptions options = Backend();
        options.MaxActive = 2;
        (BackendDecider scaler, ServerTable scalerServers) = Create(options, new Fixed(ScalingDecision.Up(1, "slow")));
        scalerServers.Set("s2", ServerLifecycleState.Warming);
        ScalingPlan plan = scaler.Decide();
        plan.Decision.Action.Should().Be(ScalingAction.Hold);
        plan.Decision.Reason.Should().Be("slow, but already at the maximum of 2 active");
    }

    [Fact]
    public void Evaluate_WhileAServerWarmsUpOrSettles_ItCountsAsCapacityAndDoesNotBlockAskingForMore()
    {
        // The policy asks for capacity + 1 each time; warming and settling servers are in the capacity it sees.
        var policy = new Recording(ScalingDecision.Up(1, "slow"));
        (BackendDecider scaler, ServerTable scalerServers) = Create(Backend(), policy);
        scaler.Decide().Servers.Should().Equal("s2");
        scalerServers.Set("s2", ServerLifecycleState.Warming);
        scaler.Decide().Servers.Should().Equal("s3");
        policy.Last.ActiveServers.Should().Be(2, "s2 warming is capacity");

        scalerServers.Set("s2", ServerLifecycleState.Active);
        scalerServers.Set("s3", ServerLifecycleState.Warming);
        ScalingPlan plan = scaler.Decide();
        plan.Servers.Should().Equal("s4");
        plan.HeldBy.Should().BeNull();
        policy.Last.ActiveServers.Should().Be(3);
    }

    [Fact]
    public void Behavior_UpCooldown_StartsWhenTheActionCompletes_AndTheHeldDecisionIsReportedToThePolicy()
    {
        BackendOptions options = Backend();
        options.Behavior.Up.Cooldown = TimeSpan.FromSeconds(30);
        var policy = new Recording(ScalingDecision.Up(1, "slow"));
        (BackendDecider scaler, ServerTable servers) = Create(options, policy);
        scaler.Decide().Servers.Should().Equal("s2");
        servers.Set("s2", ServerLifecycleState.Warming);

        ScalingPlan running = scaler.Decide();
        (running.Decision.Action, running.HeldBy, running.Decision.Reason).Should().Be((ScalingAction.Hold, "cooldown", "slow, but in up cooldown: s2's action has not completed"));
        policy.Held.Should().Equal((ScalingDecision.Up(1, "slow"), "cooldown"));

        _time.Advance(TimeSpan.FromSeconds(5));
        servers.Set("s2", ServerLifecycleState.Active); // the warm-up took 5 s: the cooldown starts now, at 15:00:05
        _time.Advance(TimeSpan.FromSeconds(29));
        scaler.Decide().Decision.Reason.Should().Be("slow, but in up cooldown until 15:00:35");
        _time.Advance(TimeSpan.FromSeconds(1));
        scaler.Decide().Servers.Should().Equal("s3");
        policy.Held.Should().HaveCount(2);
    }

    [Fact]
    public void Behavior_DownStabilization_GoesOnlyAsLowAsEveryRecommendationOfThePeriod()
    {
        BackendOptions options = Backend();
        options.Behavior.Down.Stabilization = TimeSpan.FromSeconds(30);
        var policy = new Recording();
        (BackendDecider scaler, ServerTable servers) = Create(options, policy);
        foreach (string name in new[] { "s2", "s3", "s4" })
        {
            servers.Set(name, ServerLifecycleState.Active, justEnabled: false);
        }

        scaler.Decide().Decision.Action.Should().Be(ScalingAction.Hold); // desired 4 at 15:00:00
        policy.Next = ScalingDecision.Down(2, "fast");
        _time.Advance(TimeSpan.FromSeconds(10));
        ScalingPlan held = scaler.Decide();
        (held.HeldBy, held.Decision.Reason).Should().Be(("stabilization", "fast, but the down stabilization (30s) holds it at 4"));

        _time.Advance(TimeSpan.FromSeconds(21)); // 15:00:00's recommendation left the period
        ScalingPlan down = scaler.Decide();
        down.Servers.Should().Equal("s4", "s3");
        policy.Held.Should().ContainSingle().Which.Gate.Should().Be("stabilization");
    }

    [Fact]
    public void Behavior_ToleranceAndMaxStep_ApplyToAnyPolicy()
    {
        BackendOptions options = Backend();
        options.Behavior.Up.Tolerance = 0.5;
        options.Behavior.Up.MaxStep = 1;
        var policy = new Recording(ScalingDecision.Up(1, "a bit slow"));
        (BackendDecider scaler, ServerTable servers) = Create(options, policy);
        servers.Set("s2", ServerLifecycleState.Active, justEnabled: false);
        ScalingPlan small = scaler.Decide();
        (small.HeldBy, small.Decision.Reason).Should().Be(("tolerance", "a bit slow, but 3 is within the up tolerance (0.5) of 2 active"));

        policy.Next = ScalingDecision.Up(2, "slow");
        ScalingPlan big = scaler.Decide();
        (big.Servers.Count, big.Decision.Servers).Should().Be((1, 1), "maxStep 1");
    }

    [Fact]
    public void Behavior_MinIdleBeforePark_DrainsOnlyAServerIdleThatLong()
    {
        BackendOptions options = Backend();
        options.Behavior.Down.MinIdleBeforePark = TimeSpan.FromSeconds(30);
        (BackendDecider scaler, ServerTable servers) = Create(options, new Fixed(ScalingDecision.Down(1, "fast")));
        servers.Set("s2", ServerLifecycleState.Active, justEnabled: false);
        servers.Set("s3", ServerLifecycleState.Active, justEnabled: false);
        scaler.OnRecord(Request("s2", 10));
        _time.Advance(TimeSpan.FromSeconds(31));
        scaler.OnRecord(Request("s3", 10));
        scaler.Decide().Servers.Should().Equal("s2"); // ordered would take s3, which is busy

        scaler.OnRecord(Request("s2", 10));
        ScalingPlan busy = scaler.Decide();
        (busy.HeldBy, busy.Decision.Reason).Should().Be(("minIdle", "fast, but no server has been idle for 30s"));
    }

    [Fact]
    public void Selection_LeastSessions_DrainsTheServerWithFewestSessions_Newest_TheLastEnabled()
    {
        (BackendDecider least, ServerTable leastServers) = Create(Backend(ServerSelection.LeastSessions), new Fixed(ScalingDecision.Down(1, "fast")));
        foreach ((string name, int sessions) in new[] { ("s2", 5), ("s3", 1), ("s4", 3) })
        {
            leastServers.Set(name, ServerLifecycleState.Active);
            leastServers.SetSessions(name, sessions);
        }

        least.Decide().Servers.Should().Equal("s3");

        (BackendDecider newest, ServerTable newestServers) = Create(Backend(ServerSelection.Newest), new Fixed(ScalingDecision.Down(2, "fast")));
        foreach (string name in new[] { "s3", "s2", "s4" })
        {
            newestServers.Set(name, ServerLifecycleState.Active);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        newest.Decide().Servers.Should().Equal("s4", "s2");
    }

    [Fact]
    public void Schedule_RaisesTheFloorDuringItsWindow_InItsTimeZone()
    {
        // 15:00 UTC on Thursday 26 November 2026 is 16:00 in Berlin.
        BackendOptions options = Backend();
        options.Schedule.Add(new ScheduledFloorOptions { Cron = "0 16 * * 4", For = TimeSpan.FromHours(1), MinActive = 3, TimeZone = "Europe/Berlin" });
        var policy = new Recording();
        (BackendDecider scaler, ServerTable servers) = Create(options, policy);
        ScalingPlan plan = scaler.Decide();
        plan.Servers.Should().Equal("s2", "s3");
        plan.Decision.Reason.Should().StartWith("scheduled floor of 3 ('0 16 * * 4' Europe/Berlin, until 2026-11-26 17:00)");
        policy.Last.MinActive.Should().Be(3);

        _time.Advance(TimeSpan.FromHours(1));
        scaler.Decide();
        policy.Last.MinActive.Should().Be(1, "the window ended");
    }

    [Fact]
    public void Context_InFlightArrivalRateAndDemand_FromTheIntervalsRequests()
    {
        var policy = new Recording();
        (BackendDecider scaler, _) = Create(Backend(), policy);
        _time.Advance(TimeSpan.FromSeconds(1));
        for (int i = 0; i < 10; i++)
        {
            scaler.OnRecord(Request("s1", 200));
        }

        scaler.Decide();
        (policy.Last.InFlight, policy.Last.ArrivalRate, policy.Last.DemandServers).Should().Be((2.0, 10.0, (int?)null), "10 requests of 200 ms in 1 s: 2 in flight");

        _time.Advance(TimeSpan.FromSeconds(2));
        scaler.OnRecord(Request("s1", 500, tw: 500) with { TotalTime = 1000 });
        scaler.OnRecord(Request("s1", 500, tw: 500) with { TotalTime = 1000 });
        scaler.Decide();
        (policy.Last.InFlight, policy.Last.ArrivalRate, policy.Last.DemandServers).Should().Be((1.0, 1.0, (int?)2), "half of their time in the queue: one more server");

        _time.Advance(TimeSpan.FromSeconds(1));
        scaler.Decide();
        policy.Last.InFlight.Should().BeNull("no request ended: no data, not zero");
    }

    [Fact]
    public void OnRecord_NewlyEnabledServer_SamplesIgnoredDuringSettleTime()
    {
        var policy = new Recording();
        (BackendDecider scaler, ServerTable scalerServers) = Create(Backend(), policy);
        scalerServers.Set("s2", ServerLifecycleState.Active);
        scaler.OnRecord(Request("s2", 5000));           // cold start: ignored
        scaler.OnRecord(Request("s1", 100));
        scaler.Decide();
        policy.Last.Window.Value.Should().Be(100);
        policy.Last.NewSamples.Should().Be(1);

        _time.Advance(TimeSpan.FromSeconds(11));
        scaler.OnRecord(Request("s2", 300));
        scaler.Decide();
        policy.Last.Window.Value.Should().Be(200);
    }

    [Fact]
    public void OnRecord_NoServer503AndQueueing_AreSaturation()
    {
        var policy = new Recording();
        (BackendDecider scaler, _) = Create(Backend(), policy);
        scaler.OnRecord(Request(RequestRecord.NoServerName, -1, status: 503));
        scaler.Decide();
        policy.Last.Saturated.Should().BeTrue();
        policy.Last.Window.HasValue.Should().BeFalse();

        scaler.Decide();
        policy.Last.Saturated.Should().BeFalse("saturation is per evaluation");

        scaler.OnRecord(Request("s3", 20, tw: 5));
        scaler.Decide();
        policy.Last.Saturated.Should().BeTrue();
        policy.Last.ActiveServers.Should().Be(1, "the decider never changes roles: only the actuator and the reconciler do");
    }

    [Fact]
    public void Decide_PolicyThrows_HoldsWithTheReason_AndReportsTheFaultOnce()
    {
        (BackendDecider decider, ServerTable servers) = Create(Backend(), new Throwing());
        ScalingPlan plan = decider.Decide();
        plan.Decision.Action.Should().Be(ScalingAction.Hold);
        plan.Decision.Reason.Should().Be("the policy failed (InvalidOperationException: broken policy): holding");
        plan.Servers.Should().BeEmpty();
        servers.Capacity.Should().Be(1);
        DecisionFault fault = decider.TakeFault()!;
        (fault.Extension, fault.Count, fault.Exception.Message).Should().Be(("policy", 1, "broken policy"));
        decider.TakeFault().Should().BeNull("a fault is handed over once");
    }

    [Fact]
    public void OnRecord_WindowThrows_LineIsSkipped_FaultsAreCountedUntilTaken()
    {
        BackendOptions options = Backend();
        var servers = new ServerTable(options, _time);
        var decider = new BackendDecider(options, new Recording(), new ThrowingWindow(), servers, _time);
        decider.OnRecord(Request("s1", 10));
        decider.OnRecord(Request("s1", 20));
        decider.TakeFault().Should().BeEquivalentTo(new { Extension = "window", Count = 2 });
        decider.Decide().Decision.Reason.Should().StartWith("the window failed (NotSupportedException: broken window)");
    }

    private sealed class Fixed(ScalingDecision decision) : IScalingPolicy
    {
        public ScalingDecision Decide(ScalingContext context) => decision;
    }

    private sealed class Throwing : IScalingPolicy
    {
        public ScalingDecision Decide(ScalingContext context) => throw new InvalidOperationException("broken policy");
    }

    private sealed class ThrowingWindow : IResponseTimeWindow
    {
        public void Add(int milliseconds) => throw new NotSupportedException("broken window");

        public WindowValue Evaluate() => throw new NotSupportedException("broken window");
    }

    // Records what the policy saw and what the engine held back; answers with the given decision (hold by default).
    private sealed class Recording(ScalingDecision? decision = null) : IScalingPolicy, IScalingPolicyFeedback
    {
        public ScalingContext Last { get; private set; }

        public List<(ScalingDecision Decision, string Gate)> Held { get; } = [];

        public ScalingDecision Next { get; set; } = decision ?? ScalingDecision.Hold("recording");

        public ScalingDecision Decide(ScalingContext context)
        {
            Last = context;
            return Next;
        }

        public void OnHeld(ScalingDecision decision, string gate) => Held.Add((decision, gate));
    }
}
