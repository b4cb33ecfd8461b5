using System.Diagnostics.Metrics;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>
/// Wake lines from HAProxy's Lua hold: recognised behind any syslog header, a backend at zero woken at once and sized
/// to what is waiting, repeated lines one decision, paused and standby not acting, unknown backends counted.
/// </summary>
public sealed class WakeTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 15, 0, 0, TimeSpan.Zero));
    private readonly ListLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly AutoscaleMetrics _metrics = new(() => [], () => []);
    private readonly MeterListener _listener = new();
    private readonly List<(string Instrument, double Value, string? Backend, string? Outcome)> _measurements = [];
    private readonly List<ScalingPlan> _started = [];
    private bool _acting = true;

    public WakeTests()
    {
        _loggers = LoggerFactory.Create(b => b.AddProvider(_logs));
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _metrics.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    [Theory]
    [InlineData("<134>Nov 26 15:00:00 haproxy[4242]: haproxy-autoscale wake backend=app held=7")] // 2.6/3.0 over UDP (rfc3164)
    [InlineData("<134>1 2026-11-26T15:00:00.123456+00:00 lb1 haproxy 4242 - - haproxy-autoscale wake backend=app held=7")] // a ring (rfc5424)
    [InlineData("Nov 26 15:00:00 lb1 haproxy[4242]: haproxy-autoscale wake backend=app held=7\n")] // rsyslog's file
    [InlineData("haproxy-autoscale wake backend=app held=7")] // raw
    public void WakeLine_BehindAnyHeader_Parsed(string line)
    {
        WakeLine.TryParse(System.Text.Encoding.UTF8.GetBytes(line), out ReadOnlySpan<byte> backend, out int held).Should().BeTrue();
        System.Text.Encoding.UTF8.GetString(backend).Should().Be("app");
        held.Should().Be(7);
    }

    [Theory]
    [InlineData("haproxy-autoscale wake backend=app")]
    [InlineData("haproxy-autoscale wake backend= held=1")]
    [InlineData("haproxy-autoscale wake backend=app held=")]
    [InlineData("haproxy-autoscale wake backend=app held=-1")]
    [InlineData("haproxy-autoscale wake backend=app held=x")]
    [InlineData("haproxy-autoscale wake backend=app held=1 more")]
    [InlineData("haproxy-autoscale wake backend=a b held=1")]
    [InlineData("haproxy-autoscale wake backend=app held=99999999999")]
    [InlineData("127.0.0.1:5 [26/Nov/2026:15:00:00.000] fe app/s1 0/0/0/40/45 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"")]
    public void WakeLine_Malformed_NotAWakeLine(string line) =>
        WakeLine.TryParse(System.Text.Encoding.UTF8.GetBytes(line), out _, out _).Should().BeFalse();

    [Fact]
    public void TryTake_OrdinaryLine_FalseAndNoAllocation()
    {
        Wakes wakes = Create(Backend());
        ReadOnlySpan<byte> line = "<134>Nov 26 15:00:00 haproxy[1]: Proxy fe started."u8;
        wakes.TryTake(line, CancellationToken.None).Should().BeFalse();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            wakes.TryTake(line, CancellationToken.None);
        }

        GC.GetAllocatedBytesForCurrentThread().Should().Be(before);
    }

    [Fact]
    public void Wake_AtZero_ConcurrencyPolicy_SizedByHeldOverTarget_AtMostMax()
    {
        ScaledBackend backend = Backend(targetInFlight: 4);
        Wakes wakes = Create(backend);
        backend.AtZero.Should().BeTrue();
        wakes.TryTake("haproxy[1]: haproxy-autoscale wake backend=app held=9"u8, CancellationToken.None).Should().BeTrue();

        ScalingPlan plan = _started.Single();
        plan.Servers.Should().Equal("s1", "s2", "s3"); // ceil(9 / 4)
        plan.Decision.Reason.Should().Be("woken at zero: 9 request(s) held, 4 per server: 3 server(s)");
        backend.Servers.Capacity.Should().Be(3, "claimed: they count as capacity at once");
        backend.Snapshot().Waking.Should().Be(new BackendWaking(_time.GetUtcNow(), 9));
        backend.Snapshot().AtZero.Should().BeFalse();
        backend.LastDecision!.Action.Should().Be(ScalingAction.Up);
        Outcomes().Should().Equal("woken");
        _logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.WakeStarted && e.Message == "app: woken at zero by 9 request(s) HAProxy holds: starting s1, s2, s3");

        ScaledBackend big = Backend(targetInFlight: 4);
        _started.Clear();
        Create(big).Wake(big, 1000, CancellationToken.None);
        _started.Single().Servers.Should().HaveCount(4, "at most the backend's servers");
    }

    [Fact]
    public void Wake_RepeatedLines_OneDecision_ALargerCountAddsServers()
    {
        ScaledBackend backend = Backend(targetInFlight: 4);
        Wakes wakes = Create(backend);
        wakes.Wake(backend, 1, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        wakes.Wake(backend, 1, CancellationToken.None);
        wakes.Wake(backend, 3, CancellationToken.None);
        _started.Should().ContainSingle("the same demand is one decision");

        wakes.Wake(backend, 12, CancellationToken.None);
        _started.Should().HaveCount(2);
        _started[1].Servers.Should().Equal("s2", "s3");
        _started[1].Decision.Reason.Should().StartWith("waking: 12 request(s) held");
        backend.Snapshot().Waking!.Held.Should().Be(12);
        backend.Snapshot().Waking!.Since.Should().Be(_time.GetUtcNow() - TimeSpan.FromMilliseconds(100), "since the first line");
        Outcomes().Should().Equal("woken", "waking", "waking", "added");
        _logs.Entries.Count(e => e.EventId == AutoscaleEventIds.WakeStarted).Should().Be(1);
    }

    [Fact]
    public void Wake_OtherPolicies_OneServer()
    {
        ScaledBackend backend = Backend(targetInFlight: null);
        Create(backend).Wake(backend, 50, CancellationToken.None);
        _started.Single().Servers.Should().Equal("s1");
        _started.Single().Decision.Reason.Should().Be("woken at zero: 50 request(s) held, one server (the policy has no per-server target)");
    }

    [Fact]
    public void Wake_Paused_OrStandby_DoesNotAct_LoggedOnce()
    {
        ScaledBackend backend = Backend();
        Wakes wakes = Create(backend);
        backend.PausedUntil = DateTimeOffset.MaxValue;
        wakes.Wake(backend, 1, CancellationToken.None);
        wakes.Wake(backend, 2, CancellationToken.None);
        backend.PausedUntil = null;
        _acting = false;
        wakes.Wake(backend, 3, CancellationToken.None);

        _started.Should().BeEmpty();
        backend.Servers.Capacity.Should().Be(0);
        backend.Snapshot().AtZero.Should().BeTrue();
        Outcomes().Should().Equal("held", "held", "held");
        _logs.Entries.Where(e => e.EventId == AutoscaleEventIds.WakeNotActedOn).Select(e => e.Message).Should().Equal(
            "app: wake line for 1 held request(s) not acted on: the backend is paused",
            "app: wake line for 3 held request(s) not acted on: this replica is a standby");

        _acting = true;
        wakes.Wake(backend, 3, CancellationToken.None);
        _started.Should().ContainSingle("the next wake line once it may act");
    }

    [Fact]
    public void Wake_UnknownBackend_CountedAndIgnored_NotAtZero_Counted()
    {
        ScaledBackend backend = Backend();
        Wakes wakes = Create(backend);
        wakes.TryTake("haproxy-autoscale wake backend=other held=1"u8, CancellationToken.None).Should().BeTrue();
        wakes.TryTake("haproxy-autoscale wake backend=other2 held=1"u8, CancellationToken.None).Should().BeTrue();
        _logs.Entries.Where(e => e.EventId == AutoscaleEventIds.WakeUnknownBackend).Should().ContainSingle()
            .Which.Message.Should().StartWith("A wake line names the backend 'other', which is not autoscaled");

        backend.Servers.Set("s1", ServerLifecycleState.Active);
        wakes.TryTake("haproxy-autoscale wake backend=app held=1"u8, CancellationToken.None).Should().BeTrue();
        _started.Should().BeEmpty();
        _measurements.Where(m => m.Instrument == "wakes").Select(m => (m.Backend, m.Outcome)).Should().Equal(("", "unknown-backend"), ("", "unknown-backend"), ("app", "not-at-zero"));
    }

    [Fact]
    public void UpEnded_FirstServerReady_EndsTheWake_WakeToReadyRecorded()
    {
        ScaledBackend backend = Backend(targetInFlight: 1);
        Wakes wakes = Create(backend);
        wakes.Wake(backend, 2, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(1500));
        backend.Servers.Set("s1", ServerLifecycleState.Active);
        Wakes.UpEnded(backend, "s1", null, Services());
        Wakes.UpEnded(backend, "s2", null, Services()); // the second changes nothing

        backend.Snapshot().Waking.Should().BeNull();
        _measurements.Where(m => m.Instrument == "wake_to_ready_seconds").Select(m => m.Value).Should().Equal(1.5);
        _logs.Entries.Should().ContainSingle(e => e.EventId == AutoscaleEventIds.WakeReady)
            .Which.Message.Should().Be("app: awake: s1 took traffic 1500 ms after the wake line (2 request(s) held)");
        backend.Decider.LastRequest.Should().Be(_time.GetUtcNow(), "the idle period counts from the server taking the held requests, not from the wake line");
    }

    [Fact]
    public void UpEnded_EveryServerFailed_EndsTheWake_NextLineFindsNoServer()
    {
        ScaledBackend backend = Backend(targetInFlight: 1);
        Wakes wakes = Create(backend);
        wakes.Wake(backend, 2, CancellationToken.None);
        backend.Servers.Failed("s1", ServerLifecycleState.Parked, TimeSpan.FromSeconds(30));
        Wakes.UpEnded(backend, "s1", "start: exit code 1", Services());
        backend.Snapshot().Waking.Should().NotBeNull("s2 is still starting");

        foreach (string server in new[] { "s2", "s3", "s4" })
        {
            backend.Servers.Failed(server, ServerLifecycleState.Parked, TimeSpan.FromSeconds(30));
        }

        Wakes.UpEnded(backend, "s2", "start: exit code 1", Services());
        backend.Snapshot().Waking.Should().BeNull();
        backend.Snapshot().AtZero.Should().BeTrue();
        _logs.Entries.Should().ContainSingle(e => e.EventId == AutoscaleEventIds.WakeFailed)
            .Which.Message.Should().Be("app: the wake failed after 0 ms: s2: start: exit code 1; HAProxy answers the 2 held request(s) 503 past its hold deadline");

        wakes.Wake(backend, 2, CancellationToken.None);
        wakes.Wake(backend, 2, CancellationToken.None);
        _started.Should().ContainSingle();
        Outcomes().Should().Equal("woken", "no-server", "no-server");
        _logs.Entries.Where(e => e.EventId == AutoscaleEventIds.WakeNotActedOn).Should().ContainSingle()
            .Which.Message.Should().Contain("failure back-off");
    }

    [Fact]
    public void Wake_LastServerStillStopping_RetriedAtTheNextEvaluation()
    {
        ScaledBackend backend = Backend();
        Wakes wakes = Create(backend);
        backend.Servers.Set("s1", ServerLifecycleState.Stopping); // kept warm, now being stopped
        foreach (string server in new[] { "s2", "s3", "s4" })
        {
            backend.Servers.Failed(server, ServerLifecycleState.Stopped, TimeSpan.FromMinutes(5));
        }

        wakes.Wake(backend, 2, CancellationToken.None);
        wakes.RetryPending(backend, CancellationToken.None);
        _started.Should().BeEmpty("s1 is still being stopped");
        backend.Servers.Set("s1", ServerLifecycleState.Stopped);
        wakes.RetryPending(backend, CancellationToken.None);
        _started.Should().ContainSingle().Which.Servers.Should().Equal("s1");
        wakes.RetryPending(backend, CancellationToken.None);
        _started.Should().ContainSingle("retried until it acted, not after");
        Outcomes().Should().Equal(["no-server"], "a retry is not a wake line");
    }

    [Fact]
    public void Wake_Blind_StillWakes()
    {
        // Blindness holds scale-downs; a wake only adds capacity, and its line is evidence of demand itself.
        var options = new BackendOptions { Name = "app", MinActive = 0 };
        options.Servers.Add(new ServerOptions { Name = "s1" });
        ScaledBackend backend = ScaledBackend.Create(options, new ScalingPolicyRegistry(), new ResponseTimeWindowRegistry(), _time, signals: new AutoscaleOptions());
        for (int reading = 1; reading <= 3; reading++)
        {
            backend.Coverage!.Update(_time.GetUtcNow(), 0, new HaproxyAutoscale.Control.BackendCounters(100 * reading, 0, 0, 0, 0, 0, 0, 0));
        }

        backend.Coverage!.Blind.Should().BeTrue();
        Create(backend).Wake(backend, 1, CancellationToken.None);
        _started.Single().Servers.Should().Equal("s1");
    }

    [Fact]
    public void OnWake_CountsAsARequest_TheIdleRuleWaitsFromIt()
    {
        ScaledBackend backend = Backend();
        _time.Advance(TimeSpan.FromHours(1));
        Create(backend).Wake(backend, 1, CancellationToken.None);
        backend.Decider.LastRequest.Should().Be(_time.GetUtcNow());
    }

    public void Dispose()
    {
        _listener.Dispose();
        _metrics.Dispose();
        _loggers.Dispose();
    }

    // Backend app at zero: four servers, no alwaysUp, minActive 0; the concurrency policy when a target is given.
    private ScaledBackend Backend(double? targetInFlight = 4)
    {
        var options = new BackendOptions { Name = "app", MinActive = 0, Policy = { Kind = targetInFlight is null ? ScalingPolicyNames.Threshold : ScalingPolicyNames.Concurrency } };
        if (targetInFlight is { } target)
        {
            options.Policy.Settings["targetInFlight"] = target.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (string name in new[] { "s1", "s2", "s3", "s4" })
        {
            options.Servers.Add(new ServerOptions { Name = name });
        }

        return ScaledBackend.Create(options, new ScalingPolicyRegistry(), new ResponseTimeWindowRegistry(), _time);
    }

    private Wakes Create(ScaledBackend backend) =>
        new(new LiveBackends([backend]), () => _acting, Services(), (_, plan, _) => _started.Add(plan));

    private ActionServices Services() => new(_time, _loggers.CreateLogger("HaproxyAutoscale"), _metrics, TimeSpan.FromSeconds(30));

    private List<string?> Outcomes() => [.. _measurements.Where(m => m.Instrument == "wakes").Select(m => m.Outcome)];

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        string? backend = null, outcome = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            (backend, outcome) = tag.Key switch { "backend" => ((string?)tag.Value, outcome), "outcome" => (backend, (string?)tag.Value), _ => (backend, outcome) };
        }

        lock (_measurements)
        {
            _measurements.Add((instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), backend, outcome));
        }
    }
}
