using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>Log coverage against HAProxy's counters, and the decider's rules for a blind backend (no I/O, fake time).</summary>
public sealed class LogCoverageTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    private static BackendCounters Counted(long requests, int queue = 0, int rtime = 50, long errors5xx = 0) =>
        new(requests, queue, 0, 0, 0, errors5xx, 0, rtime);

    [Fact]
    public void Update_LogsStopWhileHaproxyCounts_BlindWithinTwoReadings_AndBackWhenTheyReturn()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        coverage.Update(Now(), logged: 0, Counted(0)).Should().Be(0);
        coverage.Update(Now(), logged: 40, Counted(40)).Should().Be(0);
        coverage.Coverage.Should().Be(1);

        // The logs stop; HAProxy goes on counting 40 requests per interval.
        coverage.Update(Now(), logged: 40, Counted(80)).Should().Be(0, "half of the span is still covered");
        coverage.Update(Now(), logged: 40, Counted(120)).Should().Be(1, "blind at the second reading after the stall");
        (coverage.Blind, coverage.Coverage, coverage.Counted, coverage.Logged).Should().Be((true, 0.0, 80L, 0L));

        // The logs are back: the span (two intervals) is half covered, which is not below the minimum of 0.5.
        coverage.Update(Now(), logged: 80, Counted(160)).Should().Be(-1);
        (coverage.Blind, coverage.Coverage).Should().Be((false, 0.5));
    }

    [Fact]
    public void Update_SampledLogs_CoverageCountsTheSampleRatio()
    {
        var coverage = new LogCoverage(new AutoscaleOptions { Logs = { SampleRatio = 0.1 } });
        coverage.Update(Now(), 0, Counted(0));
        coverage.Update(Now(), 10, Counted(100));
        coverage.Coverage.Should().BeApproximately(1.0, 1e-9);
        coverage.Blind.Should().BeFalse();
    }

    [Fact]
    public void Update_FewRequests_NoVerdict_NoTrafficAtAll_NotBlind()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        coverage.Update(Now(), 0, Counted(0));
        coverage.Update(Now(), 0, Counted(50));
        coverage.Blind.Should().BeTrue();
        coverage.Update(Now(), 0, Counted(55));
        coverage.Update(Now(), 0, Counted(58));
        coverage.Blind.Should().BeTrue("8 requests over the span are too few to change the verdict");
        coverage.Update(Now(), 0, Counted(58));
        coverage.Update(Now(), 0, Counted(58));
        (coverage.Blind, coverage.Coverage).Should().Be((false, (double?)null), "HAProxy saw no request either: nothing is missing");
    }

    [Fact]
    public void Update_HaproxyRestarted_CountersStartAgain_NoFalseVerdict()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        coverage.Update(Now(), 1000, Counted(1000));
        coverage.Update(Now(), 1040, Counted(1040));
        coverage.Update(Now(), 1060, Counted(20));
        coverage.Blind.Should().BeFalse();
        coverage.Coverage.Should().BeNull("one reading after a restart is no span");
    }

    [Fact]
    public void Decide_Blind_PolicyScaleDownHeld_IdleRuleToo()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        (BackendDecider decider, ServerTable servers) = Create(new FixedPolicy(ScalingDecision.Down(1, "fast")), coverage);
        servers.Set("s2", ServerLifecycleState.Active, justEnabled: false);
        MakeBlind(coverage);

        ScalingPlan plan = decider.Decide();
        plan.Decision.Action.Should().Be(ScalingAction.Hold);
        plan.HeldBy.Should().Be("blind");
        plan.Decision.Reason.Should().Be("fast, but blind (coverage 0.00): no scale-down until the logs are back");
    }

    [Fact]
    public void Decide_BlindWithStatFallback_PolicySeesHaproxysRtimeAndQueue_AndScalesUp()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        var policy = new RecordingPolicy(ScalingDecision.Up(1, "slow"));
        (BackendDecider decider, _) = Create(policy, coverage);
        coverage.Update(Now(), 0, Counted(0));
        coverage.Update(Now(), 0, Counted(100, queue: 3, rtime: 900));

        ScalingPlan plan = decider.Decide();
        policy.Last.Window.Should().Be(new WindowValue(900, 1));
        (policy.Last.Saturated, policy.Last.HasFreshData).Should().Be((true, true));
        plan.Decision.Action.Should().Be(ScalingAction.Up);
        plan.Servers.Should().Equal("s2");

        decider.Decide();
        policy.Last.HasFreshData.Should().BeFalse("one counter reading votes once");
    }

    [Fact]
    public void Decide_OpenSessionsWithNothingLogged_PolicySeesThemInFlight_AndNoneWithoutThem()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        var policy = new RecordingPolicy(ScalingDecision.Hold("-"));
        (BackendDecider decider, _) = Create(policy, coverage);
        coverage.Update(Now(), 0, Counted(0));
        coverage.Update(Now(), 0, Counted(0) with { CurrentSessions = 47, CurrentQueue = 3 });

        decider.Decide();
        (policy.Last.OpenSessions, policy.Last.InFlight).Should().Be((50, 50d), "open connections log nothing until they end");

        // Little's law over the requests that ended counts above the open sessions: the larger figure is in flight.
        coverage.Update(Now(), 0, Counted(0) with { CurrentSessions = 1 });
        _time.Advance(Interval);
        for (int i = 0; i < 40; i++)
        {
            decider.OnRecord(Request(100)); // 40 × 0.1 s in one interval
        }

        decider.Decide();
        policy.Last.OpenSessions.Should().Be(1);
        policy.Last.InFlight.Should().BeApproximately(4.0 / Interval.TotalSeconds, 1e-9);

        coverage.Update(Now(), 0, Counted(0));
        _time.Advance(Interval);
        decider.Decide();
        (policy.Last.OpenSessions, policy.Last.InFlight).Should().Be((0, (double?)null), "no session and no request ended: no data, not zero");
    }

    [Fact]
    public void Decide_BlindWithHoldFallback_Holds()
    {
        var coverage = new LogCoverage(new AutoscaleOptions { Logs = { Fallback = BlindFallback.Hold } });
        (BackendDecider decider, _) = Create(new FixedPolicy(ScalingDecision.Up(1, "slow")), coverage, BlindFallback.Hold);
        MakeBlind(coverage);
        ScalingPlan plan = decider.Decide();
        (plan.Decision.Action, plan.HeldBy).Should().Be((ScalingAction.Hold, "blind"));
    }

    [Fact]
    public void Decide_StaleCountersOrRefillingWindow_NoScaleDown_ThenAllowed()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        (BackendDecider decider, ServerTable servers) = Create(new FixedPolicy(ScalingDecision.Down(1, "fast")), coverage);
        servers.Set("s2", ServerLifecycleState.Active, justEnabled: false);
        decider.Decide().HeldBy.Should().Be("counters", "never read yet");

        coverage.Update(Now(), 0, Counted(0));
        decider.OnRecord(Request(20));
        decider.Decide().HeldBy.Should().Be("refilling", "1 of 3 samples since the start");

        decider.OnRecord(Request(20));
        decider.OnRecord(Request(20));
        decider.Decide().Decision.Action.Should().Be(ScalingAction.Down);

        _time.Advance(3 * Interval + TimeSpan.FromSeconds(1));
        servers.Set("s2", ServerLifecycleState.Active, justEnabled: false);
        decider.Decide().HeldBy.Should().Be("counters", "the last reading is older than three intervals");
    }

    [Fact]
    public void RestartRefill_NewLeader_NoScaleDownUntilTheWindowRefilledUnderItsLeadership()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        (BackendDecider decider, ServerTable servers) = Create(new FixedPolicy(ScalingDecision.Down(1, "fast")), coverage);
        servers.Set("s2", ServerLifecycleState.Active, justEnabled: false);
        coverage.Update(Now(), 0, Counted(0));
        for (int i = 0; i < 3; i++)
        {
            decider.OnRecord(Request(20));
        }

        decider.Decide().Decision.Action.Should().Be(ScalingAction.Down, "a standby's window refilled long ago");

        // Taking over (ha) restarts the rule: the window's samples from the standby time do not count.
        decider.RestartRefill();
        decider.Decide().HeldBy.Should().Be("refilling");
        decider.OnRecord(Request(20));
        decider.OnRecord(Request(20));
        decider.Decide().HeldBy.Should().Be("refilling", "2 of 3 samples since taking over");
        decider.OnRecord(Request(20));
        decider.Decide().Decision.Action.Should().Be(ScalingAction.Down);
    }

    [Fact]
    public void Decide_HaproxyCountsRequestsTheLogsMiss_NotIdle()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        var policy = new RecordingPolicy(ScalingDecision.Hold("recording"));
        (BackendDecider decider, _) = Create(policy, coverage);
        coverage.Update(Now(), 0, Counted(0));
        _time.Advance(TimeSpan.FromMinutes(10));
        coverage.Update(Now(), 0, Counted(3));
        decider.Decide();
        policy.Last.LastRequest.Should().Be(Now(), "HAProxy counted requests at the last reading");
    }

    private DateTimeOffset Now() => _time.GetUtcNow();

    // Two readings 80 requests apart with nothing logged.
    private void MakeBlind(LogCoverage coverage)
    {
        coverage.Update(Now(), 0, Counted(0));
        coverage.Update(Now(), 0, Counted(80));
        coverage.Blind.Should().BeTrue();
    }

    private (BackendDecider, ServerTable) Create(IScalingPolicy policy, LogCoverage coverage, BlindFallback fallback = BlindFallback.Stat)
    {
        var backend = new BackendOptions { Name = "app", SettleTime = TimeSpan.Zero };
        backend.Window.Size = 3;
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        backend.Servers.Add(new ServerOptions { Name = "s2" });
        var servers = new ServerTable(backend, _time);
        var window = new ResponseTimeWindowRegistry().Create(backend.Window, _time);
        return (new BackendDecider(backend, policy, window, servers, _time, null, coverage, fallback), servers);
    }

    private static RequestRecord Request(int tr) => new()
    {
        Kind = RequestKind.Http,
        Backend = "app",
        Server = "s1",
        StatusCode = 200,
        QueueTime = 0,
        ConnectTime = 0,
        ResponseTime = tr,
        TotalTime = tr,
    };

    private sealed class FixedPolicy(ScalingDecision decision) : IScalingPolicy
    {
        public ScalingDecision Decide(ScalingContext context) => decision;
    }

    private sealed class RecordingPolicy(ScalingDecision decision) : IScalingPolicy
    {
        public ScalingContext Last { get; private set; }

        public ScalingDecision Decide(ScalingContext context)
        {
            Last = context;
            return decision;
        }
    }
}
