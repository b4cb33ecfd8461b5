using System.Collections.Concurrent;
using System.Net;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Long-lived connections through a real HAProxy (streams an app answers only when the test lets it, as an event
/// stream or a WebSocket stays open): HAProxy logs a request when it ends, so while they are open the log is silent.
/// The backend is busy all the same (its sessions), so the idle rule does not take a server away; once they end, it does.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class OpenConnectionsEndToEndTests
{
    private const int Streams = 50;

    [Fact]
    public async Task OpenStreams_WithNoRequestLogged_KeepTheServers_AndTheIdleRuleParksOneOnceTheyEnd()
    {
        using var dir = new TempDirectory();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int open = 0;
        Func<string, string, CancellationToken, Task<HttpAnswer?>> app = async (path, _, stopping) =>
        {
            if (path.StartsWith("/stream", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref open);
                await release.Task.WaitAsync(stopping);
            }

            return new HttpAnswer(200, "ok\n");
        };
        await using var s1 = new LoopbackHttpServer(app);
        await using var s2 = new LoopbackHttpServer(app);

        var options = new AutoscaleOptions
        {
            EvaluationInterval = TimeSpan.FromMilliseconds(200),
            ReconcileInterval = TimeSpan.FromMilliseconds(500),
            CounterInterval = TimeSpan.FromMilliseconds(250),
        };
        var backend = new BackendOptions { Name = "app", SettleTime = TimeSpan.Zero };
        backend.Policy.Kind = "threshold";
        backend.Policy.Settings["idleScaleDown"] = "1s";
        backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(5);
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        backend.Servers.Add(new ServerOptions { Name = "s2" });
        options.Backends.Add(backend);

        await using ILogSource logs = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0), AutoscalerBuilder.DatagramOptions(options));
        int logPort = ((IPEndPoint)((DatagramLogSource)logs).LocalEndPoint).Port;
        int frontend = Ports.FreeTcp();
        // Both servers in service from the start (the autoscaler adopts s2 as active); streams may stay open a minute.
        var haproxyBackend = new HaproxyBackend("app") { Servers = [new HaproxyServer("s1", s1.Port), new HaproxyServer("s2", s2.Port)] };
        HaproxyConfig config = HaproxyConfig.ForApps(dir.File("admin.sock"), frontend, haproxyBackend, HaproxyLogTarget.Udp(logPort));
        config.ServerTimeout = "60s";
        config.ClientTimeout = "60s";
        await using Haproxy haproxy = await Haproxy.StartAsync(config, dir);
        await haproxy.WaitForPortAsync(frontend);
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));

        // The streams open before the autoscaler starts: it never sees a request logged while they are open.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        Task<HttpResponseMessage>[] streams = [.. Enumerable.Range(0, Streams).Select(i => client.GetAsync(new Uri($"http://127.0.0.1:{frontend}/stream/{i}")))];
        try
        {
            await Poll.UntilAsync(() => Volatile.Read(ref open) == Streams, TimeSpan.FromSeconds(10), $"{Streams} streams open at the apps");

            options.Haproxy.Endpoints.Add(dir.File("admin.sock"));
            var entries = new ListLoggerProvider();
            using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(entries).SetMinimumLevel(LogLevel.Debug));
            await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(logs).UseLoggerFactory(loggers).Build();
            using var stop = new CancellationTokenSource();
            Task running = autoscaler.RunAsync(stop.Token);

            // Without the open sessions the idle rule would park s2 at the first evaluation past 1 s. Wait for the
            // engine to have seen them and evaluated for another 2 s past the idle period: s2 stays.
            DateTimeOffset started = DateTimeOffset.UtcNow;
            await Poll.UntilAsync(() => autoscaler.Snapshot()[0].OpenSessions == Streams, TimeSpan.FromSeconds(10), "the engine to see the open sessions");
            await Poll.UntilAsync(() => DateTimeOffset.UtcNow - started > TimeSpan.FromSeconds(3) && EvaluationEvents.After(entries.Entries, _ => true) >= 15,
                TimeSpan.FromSeconds(15), "evaluations for 2 s past the idle period");
            entries.Entries.Should().NotContain(e => e.EventId == AutoscaleEventIds.Decision, "no request was logged, but 50 sessions are open: the backend is busy");
            (await control.ShowStatAsync()).Single(r => r.Backend == "app" && r.Server == "s2").Status.Should().NotBe("MAINT");

            // The streams end (and log): one idle period later, the idle rule parks s2.
            release.SetResult();
            foreach (HttpResponseMessage response in await Task.WhenAll(streams))
            {
                response.StatusCode.Should().Be(HttpStatusCode.OK);
                response.Dispose();
            }

            await Poll.UntilAsync(async () => (await control.ShowStatAsync()).Single(r => r.Backend == "app" && r.Server == "s2").Status == "MAINT",
                TimeSpan.FromSeconds(15), "s2 parked by the idle rule once the streams ended");
            entries.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.Decision && e.Message.StartsWith("app: decided down ", StringComparison.Ordinal)
                && e.Message.Contains("no request for", StringComparison.Ordinal));
            await stop.CancelAsync();
            await running;
        }
        finally
        {
            release.TrySetResult();
            await Task.WhenAll(streams).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    // With 10 other backends, app is under a tenth of them: its sessions are read by name, else with every server's.
    [Theory]
    [InlineData(0, "show stat -1 4 -1")]
    [InlineData(10, "show stat app 6 -1")]
    public async Task LeastSessions_DrainsTheServerWithoutOpenStreams_NotTheLastEnabled(int otherBackends, string sessionsCommand)
    {
        using var dir = new TempDirectory();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int open = 0;
        Func<string, string, CancellationToken, Task<HttpAnswer?>> app = async (_, _, stopping) =>
        {
            Interlocked.Increment(ref open);
            await release.Task.WaitAsync(stopping);
            return new HttpAnswer(200, "ok\n");
        };
        await using var s1 = new LoopbackHttpServer(app);
        await using var s2 = new LoopbackHttpServer(app);

        var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.FromMilliseconds(200), CounterInterval = TimeSpan.FromMilliseconds(250) };
        var backend = new BackendOptions { Name = "app", SettleTime = TimeSpan.Zero, Selection = ServerSelection.LeastSessions };
        backend.Policy.Kind = "down-once";
        backend.Servers.Add(new ServerOptions { Name = "s1" });
        backend.Servers.Add(new ServerOptions { Name = "s2" });
        options.Backends.Add(backend);
        string[] others = [.. Enumerable.Range(0, otherBackends).Select(i => $"other{i}")];
        foreach (string name in others)
        {
            options.Backends.Add(new BackendOptions { Name = name, Servers = { new ServerOptions { Name = "s1", AlwaysUp = true } } });
        }

        await using ILogSource logs = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0), AutoscalerBuilder.DatagramOptions(options));
        int frontend = Ports.FreeTcp();
        var haproxyBackend = new HaproxyBackend("app") { Servers = [new HaproxyServer("s1", s1.Port), new HaproxyServer("s2", s2.Port)] };
        HaproxyConfig config = HaproxyConfig.ForApps(dir.File("admin.sock"), frontend, haproxyBackend, HaproxyLogTarget.Udp(((IPEndPoint)((DatagramLogSource)logs).LocalEndPoint).Port));
        foreach (string name in others)
        {
            config.Backends.Add(new HaproxyBackend(name) { Servers = [new HaproxyServer("s1", s1.Port)] });
        }

        (config.ServerTimeout, config.ClientTimeout) = ("60s", "60s");
        await using Haproxy haproxy = await Haproxy.StartAsync(config, dir);
        await haproxy.WaitForPortAsync(frontend);
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));

        // Every stream on s2 (s1 draining while they open), then both in service: s2, the last enabled, is the one
        // "ordered" would drain; the one without sessions is s1.
        await control.SetServerStateAsync("app", "s1", ServerAdminState.Drain);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        Task<HttpResponseMessage>[] streams = [.. Enumerable.Range(0, 10).Select(i => client.GetAsync(new Uri($"http://127.0.0.1:{frontend}/stream/{i}")))];
        try
        {
            await Poll.UntilAsync(() => Volatile.Read(ref open) == 10, TimeSpan.FromSeconds(10), "10 streams open");
            await control.SetServerStateAsync("app", "s1", ServerAdminState.Ready);

            var commands = new ConcurrentQueue<string>();
            await using var recording = new FaultInjectingControl(HaproxyControl.Create(dir.File("admin.sock"))) { Fault = c => { commands.Enqueue(c); return null; } };
            var entries = new ListLoggerProvider();
            using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(entries).SetMinimumLevel(LogLevel.Debug));
            var policies = new ScalingPolicyRegistry().Add("down-once", _ => new DownOnceAfter(TimeSpan.FromSeconds(1))); // after a few counter readings
            await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(logs).UseLoggerFactory(loggers).UsePolicies(policies).UseControl(recording).Build();
            using var stop = new CancellationTokenSource();
            Task running = autoscaler.RunAsync(stop.Token);

            await Poll.UntilAsync(async () => (await control.ShowStatForBackendAsync("app")).Single(r => r.Server == "s1").Status == "MAINT",
                TimeSpan.FromSeconds(15), "s1 parked");
            entries.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.Decision && e.Message.StartsWith("app: decided down s1", StringComparison.Ordinal));
            (await control.ShowStatForBackendAsync("app")).Single(r => r.Server == "s2").Should().Match<ServerStat>(r => r.Status != "MAINT" && r.CurrentSessions == 10);
            commands.Should().Contain(sessionsCommand);
            await stop.CancelAsync();
            await running;
        }
        finally
        {
            release.TrySetResult();
            await Task.WhenAll(streams).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    // One server down, once, a while after the start; then holds.
    private sealed class DownOnceAfter(TimeSpan delay) : IScalingPolicy
    {
        private bool _done;

        public ScalingDecision Decide(ScalingContext context)
        {
            if (_done || context.Now - context.Started < delay || context.ActiveServers < 2)
            {
                return ScalingDecision.Hold("waiting");
            }

            _done = true;
            return ScalingDecision.Down(1, "down once");
        }
    }
}
