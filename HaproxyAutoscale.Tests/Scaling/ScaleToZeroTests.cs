using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.HighAvailability;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>
/// A backend with <c>minActive: 0</c> and no alwaysUp server may go to zero (the idle rule drains and parks its last
/// server), and every safety rule still holds it: blind, stale counters, a window still refilling, a pause, a standby,
/// a scheduled floor.
/// </summary>
public sealed class ScaleToZeroTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 15, 0, 0, TimeSpan.Zero));

    private static BackendOptions Backend(bool alwaysUp = false)
    {
        var backend = new BackendOptions { Name = "app", MinActive = alwaysUp ? null : 0, Policy = { Kind = ScalingPolicyNames.Threshold } };
        backend.Policy.Settings["idleScaleDown"] = "1m";
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = alwaysUp });
        backend.Servers.Add(new ServerOptions { Name = "s2" });
        return backend;
    }

    // The backend with s1 serving (adopted: no settle time), and an evaluation with the engine's pause and standby steps.
    private (ScaledBackend Backend, BackendEvaluation Evaluation) Create(BackendOptions options, ILeaderElection? election = null)
    {
        ScaledBackend backend = ScaledBackend.Create(options, new ScalingPolicyRegistry(), new ResponseTimeWindowRegistry(), _time);
        backend.Servers.Set("s1", ServerLifecycleState.Active, justEnabled: false);
        ILogger logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        var metrics = new AutoscaleMetrics(() => [], () => []);
        List<IPlanStep> steps = [new PauseStep(logger)];
        if (election is not null)
        {
            steps.Add(new LeaderRole(election, logger, metrics.Meter));
        }

        return (backend, new BackendEvaluation(steps, logger, metrics));
    }

    [Fact]
    public void Validate_MinActiveZeroWithoutAlwaysUp_IsValid_WithOrWithoutProvider()
    {
        var options = new AutoscaleOptions { Logs = { Source = "udp@127.0.0.1:5140" }, Haproxy = { Endpoints = { "/run/haproxy/admin.sock" } } };
        options.Backends.Add(Backend());
        AutoscaleOptionsValidator.Validate(options).Should().BeEmpty("parked servers come back by enable server");

        options.Backends[0].Provider = new HaproxyAutoscale.Providers.ServerProviderOptions { Kind = HaproxyAutoscale.Providers.ServerProviderNames.Exec };
        options.Backends[0].Provider!.Lists["start"] = ["start", "{server}"];
        options.Backends[0].Provider!.Lists["stop"] = ["stop", "{server}"];
        AutoscaleOptionsValidator.Validate(options).Should().BeEmpty("a provider starts them again");
    }

    [Fact]
    public void IdleRule_MinActiveZero_DrainsTheLastServer_ThenTheBackendIsAtZero()
    {
        (ScaledBackend backend, BackendEvaluation evaluation) = Create(Backend());
        _time.Advance(TimeSpan.FromSeconds(61));
        ScalingPlan plan = evaluation.Decide(backend);
        plan.Decision.Action.Should().Be(ScalingAction.Down);
        plan.Servers.Should().Equal("s1");
        plan.Decision.Reason.Should().StartWith("no request for 1m");
        backend.AtZero.Should().BeFalse("s1 is draining");

        backend.Servers.Set("s1", ServerLifecycleState.Parked);
        backend.Snapshot().AtZero.Should().BeTrue();
        _time.Advance(TimeSpan.FromSeconds(61));
        ScalingPlan atZero = evaluation.Decide(backend);
        (atZero.Decision.Action, atZero.Decision.Reason).Should().Be((ScalingAction.Hold, "no request for 2m 2s, but already at the minimum of 0 active"));
    }

    [Fact]
    public void IdleRule_AlwaysUpServer_NeverToZero()
    {
        (ScaledBackend backend, BackendEvaluation evaluation) = Create(Backend(alwaysUp: true));
        _time.Advance(TimeSpan.FromSeconds(61));
        ScalingPlan plan = evaluation.Decide(backend);
        (plan.Decision.Action, plan.Decision.Reason).Should().Be((ScalingAction.Hold, "no request for 1m 1s, but already at the minimum of 1 active"));
        backend.AtZero.Should().BeFalse();
    }

    [Fact]
    public void ScheduledFloorAboveZero_KeepsItsServer()
    {
        BackendOptions options = Backend();
        options.Schedule.Add(new ScheduledFloorOptions { Cron = "* * * * *", For = TimeSpan.FromMinutes(10), MinActive = 1 });
        (ScaledBackend backend, BackendEvaluation evaluation) = Create(options);
        _time.Advance(TimeSpan.FromSeconds(61));
        ScalingPlan plan = evaluation.Decide(backend);
        plan.Decision.Action.Should().Be(ScalingAction.Hold);
        plan.Decision.Reason.Should().Contain("already at the minimum of 1 active");
    }

    [Fact]
    public void Paused_NeverToZero()
    {
        (ScaledBackend backend, BackendEvaluation evaluation) = Create(Backend());
        backend.PausedUntil = DateTimeOffset.MaxValue;
        _time.Advance(TimeSpan.FromSeconds(61));
        ScalingPlan plan = evaluation.Decide(backend);
        (plan.Decision.Action, plan.HeldBy).Should().Be((ScalingAction.Hold, "paused"));
        backend.Servers.RoleOf("s1").Should().Be(ServerRole.Active);
    }

    [Fact]
    public void Standby_NeverToZero()
    {
        (ScaledBackend backend, BackendEvaluation evaluation) = Create(Backend(), new SwitchableElection());
        _time.Advance(TimeSpan.FromSeconds(61));
        ScalingPlan plan = evaluation.Decide(backend);
        (plan.Decision.Action, plan.HeldBy).Should().Be((ScalingAction.Hold, "standby"));
        backend.Servers.RoleOf("s1").Should().Be(ServerRole.Active);
    }

    [Fact]
    public void Blind_NeverToZero()
    {
        var signals = new AutoscaleOptions();
        var coverage = new LogCoverage(signals);
        (BackendDecider decider, ServerTable servers) = Decider(coverage);
        for (int reading = 1; reading <= 3; reading++)
        {
            coverage.Update(_time.GetUtcNow(), logged: 0, Stat(requests: 100 * reading)); // HAProxy counts requests the logs do not show
        }

        coverage.Blind.Should().BeTrue();
        ScalingPlan plan = decider.Decide();
        (plan.Decision.Action, plan.HeldBy).Should().Be((ScalingAction.Hold, "blind"));
        servers.RoleOf("s1").Should().Be(ServerRole.Active);
    }

    [Fact]
    public void StaleCounters_NeverToZero()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        (BackendDecider decider, _) = Decider(coverage);
        ScalingPlan plan = decider.Decide(); // no reading of HAProxy's counters yet
        (plan.Decision.Action, plan.HeldBy).Should().Be((ScalingAction.Hold, "counters"));
    }

    [Fact]
    public void WindowRefilling_NeverToZero()
    {
        var coverage = new LogCoverage(new AutoscaleOptions());
        (BackendDecider decider, _) = Decider(coverage);
        decider.OnRecord(new RequestRecord { Kind = RequestKind.Http, Backend = "app", Server = "s1", StatusCode = 200, ResponseTime = 10, TotalTime = 10 });
        coverage.Update(_time.GetUtcNow(), logged: 1, Stat(requests: 1));
        ScalingPlan plan = decider.Decide();
        (plan.Decision.Action, plan.HeldBy).Should().Be((ScalingAction.Hold, "refilling"), "one sample of a window of 15 since the start");
    }

    // A decider with HAProxy's counters (the daemon's guards) whose policy always asks to drain the last server.
    private (BackendDecider Decider, ServerTable Servers) Decider(LogCoverage coverage)
    {
        BackendOptions options = Backend();
        var servers = new ServerTable(options, _time);
        servers.Set("s1", ServerLifecycleState.Active, justEnabled: false);
        var decider = new BackendDecider(options, new DownOne(), ResponseTimeWindows.Create(options.Window, _time), servers, _time, coverage: coverage);
        return (decider, servers);
    }

    private static BackendCounters Stat(long requests) => new(requests, 0, 0, 0, 0, 0, 0, 0);

    private sealed class DownOne : IScalingPolicy
    {
        public ScalingDecision Decide(ScalingContext context) => ScalingDecision.Down(1, "fast").WithinBounds(context);
    }
}
