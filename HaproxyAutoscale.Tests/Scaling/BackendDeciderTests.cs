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
        scalerServers.Set("s2", ServerRole.Active);
        scalerServers.Set("s3", ServerRole.Active);

        (BackendDecider down, ServerTable downServers) = Create(Backend(), new Fixed(ScalingDecision.Down(5, "test")));
        downServers.Set("s2", ServerRole.Active);
        downServers.Set("s3", ServerRole.Active);
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
        scalerServers.Set("s2", ServerRole.Warming);
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
        scalerServers.Set("s2", ServerRole.Warming);
        scaler.Decide().Servers.Should().Equal("s3");
        policy.Last.ActiveServers.Should().Be(2, "s2 warming is capacity");

        scalerServers.Set("s2", ServerRole.Active);
        scalerServers.Set("s3", ServerRole.Warming);
        ScalingPlan plan = scaler.Decide();
        plan.Servers.Should().Equal("s4");
        plan.HeldBy.Should().BeNull();
        policy.Last.ActiveServers.Should().Be(3);
    }

    [Fact]
    public void OnRecord_NewlyEnabledServer_SamplesIgnoredDuringSettleTime()
    {
        var policy = new Recording();
        (BackendDecider scaler, ServerTable scalerServers) = Create(Backend(), policy);
        scalerServers.Set("s2", ServerRole.Active);
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
