using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Cli.Systemd;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.EndToEnd;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// The daemon under systemd's <c>Type=notify</c> with a watchdog: the test is systemd, listening on the socket
/// NOTIFY_SOCKET names, and checks what arrives and in which order (READY, WATCHDOG while the evaluation loop
/// completes passes, STOPPING), against a real HAProxy.
/// </summary>
public sealed class SystemdNotifyTests
{
    private const string Ready = "READY=1\nSTATUS=Autoscaling 1 backend(s) from udp@127.0.0.1:0";
    private const string Ping = "WATCHDOG=1";
    private static readonly TimeSpan Watchdog = TimeSpan.FromMilliseconds(400);

    [Fact]
    [Trait("Category", "Haproxy")]
    public async Task Run_UnderNotifySocket_ReadyThenPingsThenStoppingOnSigterm_Exit0()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync("backend app\n    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2 disabled\n", dir);
        string config = await WriteConfigAsync(dir, dir.File("admin.sock"));
        using var notify = new NotifySocket(dir.File("notify.sock"));
        await using var cli = CliProcess.Start(NotifyEnvironment(notify), "run", "--config", config);
        await Poll.UntilAsync(() => notify.Count(Ping) >= 3 || cli.HasExited, TimeSpan.FromSeconds(20), "three watchdog pings");
        int exitCode = await cli.TerminateAsync();
        await Poll.UntilAsync(() => notify.Received.Any(r => r.State.StartsWith("STOPPING=1", StringComparison.Ordinal)), TimeSpan.FromSeconds(5), $"STOPPING=1; received {string.Join(" | ", notify.Received.Select(r => r.State))}; output:\n{cli.Output}");

        exitCode.Should().Be(0, cli.Output);
        string[] states = [.. notify.Received.Select(r => r.State)];
        states[0].Should().Be(Ready, "nothing before READY: {0}", string.Join(" | ", states));
        states[1..^1].Should().OnlyContain(s => s == Ping).And.HaveCountGreaterThanOrEqualTo(3);
        states[^1].Should().Be("STOPPING=1\nSTATUS=Stopping: finishing the actions in flight", "nothing after STOPPING");
        cli.Output.Should().Contain("systemd watchdog (400ms): a ping every 200ms while the evaluation loop has completed a pass within 300ms")
            .And.Contain("adopted as parked").And.MatchRegex(@"Stopped after reading \d+ log lines");
    }

    [Fact]
    [Trait("Category", "Haproxy")]
    public async Task Run_SighupReload_ReloadingWithMonotonicTimeThenReady()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync("backend app\n    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2 disabled\n", dir);
        string config = await WriteConfigAsync(dir, dir.File("admin.sock"));
        using var notify = new NotifySocket(dir.File("notify.sock"));
        await using var cli = CliProcess.Start(NotifyEnvironment(notify), "run", "--config", config);
        await Poll.UntilAsync(() => notify.Count(Ready) == 1 || cli.HasExited, TimeSpan.FromSeconds(20), "READY");

        // What systemctl reload does through ExecReload=/bin/kill -HUP $MAINPID.
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace("\"servers\":", "\"policy\": { \"kind\": \"threshold\" }, \"servers\":", StringComparison.Ordinal));
        long before = (long)Stopwatch.GetElapsedTime(0).TotalMicroseconds;
        Process.Start("kill", ["-HUP", cli.Pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        await Poll.UntilAsync(() => notify.Received.Count(r => r.State.StartsWith("READY=1", StringComparison.Ordinal)) == 2 || cli.HasExited, TimeSpan.FromSeconds(10), "READY after the reload");
        long after = (long)Stopwatch.GetElapsedTime(0).TotalMicroseconds;
        await cli.TerminateAsync();

        string[] states = [.. notify.Received.Select(r => r.State).Where(s => s != Ping)];
        states[0].Should().Be(Ready);
        Match reloading = Regex.Match(states[1], "^RELOADING=1\nMONOTONIC_USEC=(\\d+)\nSTATUS=Reloading the configuration$");
        reloading.Success.Should().BeTrue("RELOADING=1 with CLOCK_MONOTONIC in µs next, as systemd asks (got {0})", states[1]);
        long.Parse(reloading.Groups[1].Value, CultureInfo.InvariantCulture).Should().BeInRange(before, after, "the daemon's and this process's CLOCK_MONOTONIC are the same clock");
        states[2].Should().Be("READY=1\nSTATUS=Reload applied: changed app (policy); unchanged 0");
        states[3].Should().StartWith("STOPPING=1");
    }

    [Fact]
    public async Task Run_HaproxyUnreachableAtStart_ReadyAnyway_TheEngineCarriesOn()
    {
        // The engine does not wait for HAProxy: an unreachable instance is logged and read again at the next pass. So
        // READY follows the first pass whatever it found, and systemctl start does not hang while HAProxy is down.
        using var dir = new TempDirectory();
        string config = await WriteConfigAsync(dir, dir.File("missing.sock"));
        using var notify = new NotifySocket(dir.File("notify.sock"));

        await using var cli = CliProcess.Start(NotifyEnvironment(notify), "run", "--config", config);
        await Poll.UntilAsync(() => notify.Count(Ping) >= 1 || cli.HasExited, TimeSpan.FromSeconds(20), "READY and a ping");
        int exitCode = await cli.TerminateAsync();

        exitCode.Should().Be(0, cli.Output);
        notify.Received[0].State.Should().Be(Ready);
        cli.Output.Should().Contain($"Reading state from HAProxy failed: {dir.File("missing.sock")}");
    }

    [Fact]
    [Trait("Category", "Haproxy")]
    public async Task Ready_OnlyOnceTheFirstReconcileIsDone()
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(build: (builder, rig) =>
        {
            var gated = new GatedControl(HaproxyControl.Create(rig.Endpoint), "show servers state", reading, release.Task);
            rig.Own(gated);
            builder.UseControl(gated);
        });
        using var dir = new TempDirectory();
        using var notify = new NotifySocket(dir.File("notify.sock"));
        await using Notifying systemd = Notifying.Start(notify, rig, Watchdog);

        await reading.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the first reconcile pass reads HAProxy's servers
        rig.Autoscaler.Started.IsCompleted.Should().BeFalse("the first reconcile pass is not done");
        notify.Received.Should().BeEmpty("no READY (nor ping) before the first reconcile pass is done");

        release.SetResult();
        await rig.Autoscaler.Started.WaitAsync(TimeSpan.FromSeconds(10));
        await Poll.UntilAsync(() => notify.Received.Count > 0, TimeSpan.FromSeconds(5), "READY");
        notify.Received[0].State.Should().StartWith("READY=1\nSTATUS=test");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.Adopted, "READY came after HAProxy's state was adopted");
    }

    [Fact]
    [Trait("Category", "Haproxy")]
    public async Task Watchdog_EvaluationLoopStuck_NoPingUntilItCompletesAPassAgain()
    {
        var policy = new GatePolicy();
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(
            backend =>
            {
                backend.Policy.Kind = GatePolicy.Name;
                backend.Policy.Settings.Clear();
            },
            build: (builder, _) => builder.Policies.Add(GatePolicy.Name, _ => policy),
            configureOptions: options => options.EvaluationInterval = TimeSpan.FromMilliseconds(100));
        using var dir = new TempDirectory();
        using var notify = new NotifySocket(dir.File("notify.sock"));
        try
        {
            await using Notifying systemd = Notifying.Start(notify, rig, Watchdog);
            await Poll.UntilAsync(() => notify.Count(Ping) >= 2, TimeSpan.FromSeconds(10), "pings while the loop is healthy");

            policy.Block();
            await Poll.UntilAsync(() => policy.Blocked, TimeSpan.FromSeconds(5), "the loop stuck in the policy");

            // systemd restarts a service that sends no ping for WatchdogSec: a silence of three watchdog intervals shows it
            // would (a timer pinging regardless never leaves one).
            await Poll.UntilAsync(() => notify.Now - (notify.LastAt(Ping) ?? TimeSpan.Zero) > 3 * Watchdog, TimeSpan.FromSeconds(4), "the pings to stop");
            // Polled, not asserted at once: on a loaded machine the silence can also come from the ping timer's own
            // late tick, and the withheld ping's log then follows at the next one (CI saw that once).
            await Poll.UntilAsync(
                () => systemd.Logs.Any(l => l.EventId == SystemdEventIds.WatchdogWithheld && l.Message.Contains("the evaluation loop has completed no pass for", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(3), "the withheld ping logged");

            int before = notify.Count(Ping);
            policy.Release();
            await Poll.UntilAsync(() => notify.Count(Ping) > before, TimeSpan.FromSeconds(3), "the pings to resume");
            await Poll.UntilAsync(() => systemd.Logs.Any(l => l.EventId == SystemdEventIds.WatchdogResumed), TimeSpan.FromSeconds(3), "the resumption logged");
        }
        finally
        {
            policy.Release();
        }

        await Poll.UntilAsync(() => notify.Received[^1].State.StartsWith("STOPPING=1", StringComparison.Ordinal), TimeSpan.FromSeconds(5), "STOPPING=1, last");
    }

    [Fact]
    [Trait("Category", "Haproxy")]
    public async Task Watchdog_EvaluationIntervalLongerThanHalfOfIt_WarnsAndAHealthyLoopStillPings()
    {
        // Passes 300 ms apart, pings every 200 ms: a pass is "recent" within one evaluation interval plus a ping period.
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(configureOptions: options => options.EvaluationInterval = TimeSpan.FromMilliseconds(300));
        using var dir = new TempDirectory();
        using var notify = new NotifySocket(dir.File("notify.sock"));
        await using Notifying systemd = Notifying.Start(notify, rig, Watchdog);

        await Poll.UntilAsync(() => notify.Count(Ping) >= 4, TimeSpan.FromSeconds(10), "pings from a healthy loop");
        systemd.Logs.Should().Contain(l => l.EventId == SystemdEventIds.WatchdogSlow && l.Level == LogLevel.Warning
            && l.Message.StartsWith("systemd watchdog: evaluationInterval 300ms is longer than half of WatchdogSec (400ms)", StringComparison.Ordinal));
        systemd.Logs.Should().Contain(l => l.EventId == SystemdEventIds.WatchdogEnabled && l.Message.Contains("within 500ms; a hung loop is restarted within 900ms", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null, "400000", null, false, null)]
    [InlineData("@", "400000", null, false, null)]
    [InlineData("/run/notify", null, null, true, null)]
    [InlineData("/run/notify", "0", null, true, null)]
    [InlineData("/run/notify", "soon", null, true, null)]
    [InlineData("/run/notify", "400000", null, true, 400)]
    [InlineData("/run/notify", "400000", "SELF", true, 400)]
    [InlineData("/run/notify", "400000", "1", true, null)]
    public void FromEnvironment_ReadsSocketAndWatchdogAsSdWatchdogEnabled(string? socket, string? usec, string? pid, bool notifies, int? watchdogMs)
    {
        string self = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var variables = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = socket, ["WATCHDOG_USEC"] = usec, ["WATCHDOG_PID"] = pid == "SELF" ? self : pid };

        using SystemdNotifier? notifier = SystemdNotifier.FromEnvironment(name => variables[name], Environment.ProcessId);

        (notifier is not null).Should().Be(notifies, "NOTIFY_SOCKET {0}", socket);
        notifier?.Watchdog.Should().Be(watchdogMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, "WATCHDOG_USEC {0}, WATCHDOG_PID {1}", usec, pid);
    }

    [Fact]
    public async Task Notify_AbstractSocketName_Arrives()
    {
        using var notify = new NotifySocket($"@haproxy-autoscale-test-{Guid.NewGuid():N}");
        using SystemdNotifier notifier = SystemdNotifier.FromEnvironment(name => name == "NOTIFY_SOCKET" ? notify.Address : null, Environment.ProcessId)!;

        notifier.Notify("READY=1").Should().BeNull();
        await Poll.UntilAsync(() => notify.Count("READY=1") == 1, TimeSpan.FromSeconds(5), "READY on the abstract socket");
    }

    [Fact]
    public void Notify_NobodyListening_ReturnsTheErrorDoesNotThrow()
    {
        using var dir = new TempDirectory();
        using SystemdNotifier notifier = SystemdNotifier.FromEnvironment(name => name == "NOTIFY_SOCKET" ? dir.File("gone.sock") : null, Environment.ProcessId)!;

        notifier.Notify("READY=1").Should().NotBeNull();
    }

    private static Dictionary<string, string?> NotifyEnvironment(NotifySocket notify) =>
        new() { ["NOTIFY_SOCKET"] = notify.Address, ["WATCHDOG_USEC"] = "400000", ["WATCHDOG_PID"] = null };

    private static async Task<string> WriteConfigAsync(TempDirectory dir, string endpoint)
    {
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "haproxy": { "endpoints": ["{{endpoint}}"] },
              "logs": { "source": "udp@127.0.0.1:0" },
              "evaluationInterval": "100ms",
              "backends": { "app": { "servers": { "s1": { "alwaysUp": true }, "s2": {} } } }
            }
            """);
        return config;
    }

    // SystemdService over a rig's autoscaler, logging to a list, stopped (STOPPING=1) on dispose.
    private sealed class Notifying : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ListLoggerProvider _logs = new();
        private readonly ILoggerFactory _loggers;
        private readonly SystemdNotifier _notifier;
        private readonly Task _running;

        private Notifying(NotifySocket socket, AutoscaleRig rig, TimeSpan watchdog)
        {
            _loggers = LoggerFactory.Create(b => b.AddProvider(_logs));
            string usec = ((long)watchdog.TotalMicroseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _notifier = SystemdNotifier.FromEnvironment(name => name switch { "NOTIFY_SOCKET" => socket.Address, "WATCHDOG_USEC" => usec, _ => null }, Environment.ProcessId)!;
            _running = SystemdService.Start(_notifier, rig.Autoscaler, "test", rig.Options.EvaluationInterval, TimeProvider.System, _loggers.CreateLogger("test"), _stop.Token).Running;
        }

        public IReadOnlyCollection<(LogLevel Level, int EventId, string Message)> Logs => _logs.Entries;

        public static Notifying Start(NotifySocket socket, AutoscaleRig rig, TimeSpan watchdog) => new(socket, rig, watchdog);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running;
            _notifier.Dispose();
            _loggers.Dispose();
            _stop.Dispose();
        }
    }

    // Holds every evaluation while blocked: Decide waits on a gate (the loop is stuck, as a hung policy leaves it).
    private sealed class GatePolicy : IScalingPolicy
    {
        public const string Name = "gate";

        private readonly ManualResetEventSlim _open = new(initialState: true);
        private volatile bool _blocked;

        public bool Blocked => _blocked;

        public void Block() => _open.Reset();

        public void Release() => _open.Set();

        public ScalingDecision Decide(ScalingContext context)
        {
            if (!_open.IsSet)
            {
                _blocked = true;
                _open.Wait();
                _blocked = false;
            }

            return ScalingDecision.Hold("gate: nothing to do");
        }
    }

    // A real control whose commands starting with a prefix wait for a gate (the first reconcile pass, held).
    private sealed class GatedControl(IHaproxyControl inner, string prefix, TaskCompletionSource reached, Task gate) : IHaproxyControl
    {
        public string Endpoint => inner.Endpoint;

        public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
        {
            if (command.StartsWith(prefix, StringComparison.Ordinal))
            {
                reached.TrySetResult();
                await gate.WaitAsync(cancellationToken);
            }

            return await inner.ExecuteAsync(command, cancellationToken);
        }

        public Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default) =>
            inner.ExecuteBatchAsync(commands, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
