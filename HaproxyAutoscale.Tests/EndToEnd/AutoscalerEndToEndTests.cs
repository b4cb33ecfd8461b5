using HaproxyAutoscale.Control;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// The whole autoscaler against a real HAProxy, real demo apps (cold start 1 s, slower under concurrency) and logs
/// over UDP, with bounded load from the test.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class AutoscalerEndToEndTests
{
    [Fact]
    public async Task LoadRises_ParkedServerWarmedThenEnabled_LoadStops_DrainedBackToMaintenance()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync();
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");

        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(30), load.Token);
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled under load");

        // a. The warm-up was s2's first request, and a cold one; HAProxy routed nothing to it before.
        await Poll.UntilAsync(() => rig.Apps[1].Served.Count > 1, TimeSpan.FromSeconds(10), "traffic on s2");
        ServedRequest[] served = [.. rig.Apps[1].Served.OrderBy(r => r.Arrived)];
        served[0].Path.Should().Be("/warmup");
        served[0].Cold.Should().BeTrue();
        served.Skip(1).Should().OnlyContain(r => r.Path == "/page" && !r.Cold);
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ActionCompleted && l.Message.StartsWith("app/s2: up done in", StringComparison.Ordinal));

        // b. Load stops: after 2 s without requests, servers drain back to maintenance one by one; s1 stays.
        await load.CancelAsync();
        await loading;
        await rig.WaitForStatusAsync("s2", s => s == "MAINT", "back in maintenance");
        await rig.WaitForStatusAsync("s3", s => s == "MAINT", "in maintenance");
        (await rig.StatusOfAsync("s1")).Should().NotStartWith("MAINT");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.Decision && l.Message.Contains("decided down s2: no request for", StringComparison.Ordinal));
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s1", ServerRole.Active));
        rig.Failed.Should().Be(0);
    }

    [Fact]
    public async Task FullCycleUnderSteadyLoad_NoFailedRequest()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(backend =>
        {
            backend.Policy.Kind = "band";
            backend.Policy.Settings.Clear();
            backend.Policy.Settings["upperMs"] = "150";
            backend.Policy.Settings["lowerMs"] = "60";
            backend.Policy.Settings["breaches"] = "2";
            backend.Policy.Settings["stabilization"] = "2s";
            backend.Policy.Settings["scaleUpCooldown"] = "1s";
            backend.Policy.Settings["scaleDownCooldown"] = "2s";
        });

        // Heavy load until a server is up, then light load (one client) that never stops until it is drained again.
        using (var heavy = new CancellationTokenSource())
        {
            Task heavyLoad = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(30), heavy.Token);
            await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled under load");
            using var light = new CancellationTokenSource();
            Task lightLoad = rig.LoadAsync(clients: 1, TimeSpan.FromSeconds(60), light.Token);
            await heavy.CancelAsync();
            await heavyLoad;
            await rig.WaitForStatusAsync("s2", s => s == "MAINT", "drained back under light load", seconds: 40);
            await rig.WaitForStatusAsync("s3", s => s == "MAINT", "in maintenance", seconds: 40);
            await light.CancelAsync();
            await lightLoad;
        }

        rig.Succeeded.Should().BeGreaterThan(100);
        rig.Failed.Should().Be(0, "drain lets every request in flight finish");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ActionCompleted && l.Message.StartsWith("app/s2: down done", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WarmupFails_ServerStaysParkedAndTheReasonIsLogged()
    {
        int closedPort = Ports.FreeTcp();
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(s2WarmupUrl: $"http://127.0.0.1:{closedPort}/warmup");
        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(30), load.Token);

        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.WarmupFailed), TimeSpan.FromSeconds(20), "a failed warm-up");
        (LogLevel level, _, string message) = rig.Logs.First(l => l.EventId == AutoscaleEventIds.WarmupFailed);
        level.Should().Be(LogLevel.Warning);
        message.Should().StartWith($"app/s2: warm-up of http://127.0.0.1:{closedPort}/warmup failed: ").And.EndWith("the server stays parked");
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
        rig.Apps[1].Served.Should().BeEmpty();

        // Meanwhile the next parked server is used, and s2 is not retried during its back-off.
        await rig.WaitForStatusAsync("s3", s => s != "MAINT", "enabled instead");
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
        await load.CancelAsync();
        await loading;
    }

    [Fact]
    public async Task OperatorMaintenance_IsLeftAlone_AndHaproxyRestart_IsReapplied()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync();
        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(40), load.Token);
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled under load");

        // d. HAProxy restarts: its runtime state is lost (s2 is "disabled" in its configuration again).
        int oldPid = rig.Haproxy.Pid;
        await rig.Haproxy.StopAsync();
        await rig.Haproxy.StartAsync(waitForSocket: rig.Endpoint); // the old socket file refuses connections until the new one replaces it
        await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.Reapplied), TimeSpan.FromSeconds(10), "the restart to be noticed");
        rig.Logs.First(l => l.EventId == AutoscaleEventIds.Reapplied).Message.Should().Contain($"pid {oldPid} -> {rig.Haproxy.Pid}");
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "re-enabled after the restart");

        // f. An operator puts s2 into maintenance by hand: it stays there, and is reported.
        await load.CancelAsync();
        await loading;
        await rig.Control.DisableServerAsync("app", "s2");
        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.HeldByOperator), TimeSpan.FromSeconds(10), "the operator's change to be noticed");
        rig.Logs.First(l => l.EventId == AutoscaleEventIds.HeldByOperator).Message.Should().StartWith("app/s2: put in maintenance by someone else");
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s2", ServerRole.HeldByOperator));

        // Warming servers no longer hold a further scale-up, so the first load may have enabled s3 too: once idle it is
        // drained, and the new load must want a server again (with s3 still up the backend may not be slow at all).
        await rig.WaitForStatusAsync("s3", s => s == "MAINT", "s3 parked by the idle rule (if the first load enabled it)");

        // Load again, until the engine has wanted another server: it either took s3 (though s2 comes first) or found
        // none it may move. Only then is s2 still being in maintenance a sign it was left alone.
        int before = rig.Logs.Count;
        using var again = new CancellationTokenSource();
        Task loadingAgain = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(30), again.Token);
        await Poll.UntilAsync(
            () => rig.Logs.Skip(before).Any(l => (l.EventId == AutoscaleEventIds.Decision && l.Message.StartsWith("app: decided up ", StringComparison.Ordinal))
                || (l.EventId == AutoscaleEventIds.HeldByGate && l.Message.Contains("no server can move", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(20),
            "a scale-up decision under the new load");
        rig.Logs.Skip(before).Should().NotContain(l => l.EventId == AutoscaleEventIds.Decision && l.Message.StartsWith("app: decided up s2", StringComparison.Ordinal));
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT", "the autoscaler never re-enables what an operator disabled");
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s2", ServerRole.HeldByOperator));
        await again.CancelAsync();
        await loadingAgain;
    }

    [Fact]
    public async Task DryRun_DecidesAndLogs_ButHaproxyIsNotChanged()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(dryRun: true);
        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(20), load.Token);

        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.DryRun), TimeSpan.FromSeconds(15), "a dry-run action");
        rig.Logs.Where(l => l.EventId == AutoscaleEventIds.DryRun).Select(l => l.Message).Take(2).Should().Equal(
            $"{rig.Endpoint}: dry run, not sent: set weight app/s2 100%",
            $"{rig.Endpoint}: dry run, not sent: set server app/s2 state ready");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.Started && l.Message.Contains("dry run", StringComparison.Ordinal));
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
        rig.Apps[1].Served.Should().ContainSingle().Which.Path.Should().Be("/warmup", "warm-ups are not HAProxy commands: a dry run still shows they work");
        await load.CancelAsync();
        await loading;
    }
}
