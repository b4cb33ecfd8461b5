using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

public sealed class BackendScalerTests
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
        var scaler = new BackendScaler(Backend(), new Fixed(ScalingDecision.Up(2, "test")), _time);
        scaler.OnRecord(Request("s1", 10));
        scaler.Evaluate().Servers.Should().Equal("s2", "s3");
        scaler.SetRole("s2", ServerRole.Active);
        scaler.SetRole("s3", ServerRole.Active);

        var down = new BackendScaler(Backend(), new Fixed(ScalingDecision.Down(5, "test")), _time);
        down.SetRole("s2", ServerRole.Active);
        down.SetRole("s3", ServerRole.Active);
        ScalingPlan plan = down.Evaluate();
        plan.Servers.Should().Equal("s3", "s2"); // never s1: alwaysUp
        plan.Decision.Servers.Should().Be(2, "bounded by the alwaysUp minimum");
    }

    [Fact]
    public void Evaluate_Random_PicksAmongTheRightServers()
    {
        var seen = new HashSet<string>();
        for (int seed = 0; seed < 50; seed++)
        {
            var scaler = new BackendScaler(Backend(ServerSelection.Random), new Fixed(ScalingDecision.Up(1, "test")), _time, new Random(seed));
            string server = scaler.Evaluate().Servers.Single();
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
        var scaler = new BackendScaler(options, new Fixed(ScalingDecision.Up(1, "slow")), _time);
        scaler.SetRole("s2", ServerRole.Warming);
        ScalingPlan plan = scaler.Evaluate();
        plan.Decision.Action.Should().Be(ScalingAction.Hold);
        plan.Decision.Reason.Should().Be("slow, but already at the maximum of 2 active");
    }

    [Fact]
    public void Evaluate_WhileAServerWarmsUpOrSettles_NoSecondScaleUpForTheSameBreach()
    {
        var scaler = new BackendScaler(Backend(), new Fixed(ScalingDecision.Up(1, "slow")), _time);
        scaler.Evaluate().Servers.Should().Equal("s2");
        scaler.SetRole("s2", ServerRole.Warming);
        scaler.Evaluate().Decision.Reason.Should().Be("slow, but waiting for s2 to warm up");

        scaler.SetRole("s2", ServerRole.Active);
        scaler.Evaluate().Decision.Reason.Should().Be("slow, but waiting for s2 to settle");

        _time.Advance(TimeSpan.FromSeconds(10));
        scaler.Evaluate().Servers.Should().Equal("s3");
    }

    [Fact]
    public void OnRecord_NewlyEnabledServer_SamplesIgnoredDuringSettleTime()
    {
        var policy = new Recording();
        var scaler = new BackendScaler(Backend(), policy, _time);
        scaler.SetRole("s2", ServerRole.Active);
        scaler.OnRecord(Request("s2", 5000));           // cold start: ignored
        scaler.OnRecord(Request("s1", 100));
        scaler.Evaluate();
        policy.Last.Window.Value.Should().Be(100);
        policy.Last.NewSamples.Should().Be(1);

        _time.Advance(TimeSpan.FromSeconds(11));
        scaler.OnRecord(Request("s2", 300));
        scaler.Evaluate();
        policy.Last.Window.Value.Should().Be(200);
    }

    [Fact]
    public void OnRecord_NoServer503AndQueueing_AreSaturation_AndServersSeenAreAdopted()
    {
        var policy = new Recording();
        var scaler = new BackendScaler(Backend(), policy, _time);
        scaler.OnRecord(Request(RequestRecord.NoServerName, -1, status: 503));
        scaler.Evaluate();
        policy.Last.Saturated.Should().BeTrue();
        policy.Last.Window.HasValue.Should().BeFalse();

        scaler.Evaluate();
        policy.Last.Saturated.Should().BeFalse("saturation is per evaluation");

        scaler.OnRecord(Request("s3", 20, tw: 5));
        scaler.Evaluate();
        policy.Last.Saturated.Should().BeTrue();
        scaler.RoleOf("s3").Should().Be(ServerRole.Active, "a server that serves traffic is up, whatever we believed");
        policy.Last.ActiveServers.Should().Be(2);
    }

    private sealed class Fixed(ScalingDecision decision) : IScalingPolicy
    {
        public ScalingDecision Decide(ScalingContext context) => decision;
    }

    private sealed class Recording : IScalingPolicy
    {
        public ScalingContext Last { get; private set; }

        public ScalingDecision Decide(ScalingContext context)
        {
            Last = context;
            return ScalingDecision.Hold("recording");
        }
    }
}
