using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary>
/// The zero-set-up demo: a real HAProxy (<see cref="HaproxyBinary"/>: HPA_HAPROXY, else PATH) on loopback, four lazily started apps behind it, each its own
/// process (this CLI's hidden <c>demo-app</c>; s1 always up, s2-s4 stopped until needed: started through a server
/// provider, kept warm once parked, then stopped), a load ramp up and down from in-process clients, and the autoscaler
/// reading HAProxy's logs over UDP. Prints a live line per second (app processes running with their PIDs, each
/// server's lifecycle) and a summary of what was scaled and when, and of the app-process-seconds used against keeping
/// every app up. A second backend (<see cref="DemoLazyBackend"/>) sleeps at zero behind the shipped Lua hold until a
/// burst wakes it, then goes back to zero. Everything runs on 127.0.0.1 and every process it starts is stopped by its PID.
/// </summary>
/// <remarks>
/// <paramref name="speed"/> runs the demo's clock faster (the tests use it): the ramp, the live line, the apps' cold
/// start and the autoscaler's intervals are divided by it, and times are shown on the demo's clock. The apps'
/// response times are not: they are what the requests in flight the autoscaler measures come from.
/// </remarks>
internal sealed class DemoRunner(TextWriter output, TimeSpan duration, double speed = 1)
{
    private const int MaxClients = 16;
    private readonly ConcurrentQueue<(TimeSpan At, string What)> _timeline = new();
    private readonly Stopwatch _clock = new();
    private int _clients;
    private readonly Dictionary<string, int> _ports = new(StringComparer.Ordinal) { ["s1"] = Ports.FreeTcp(), ["s2"] = Ports.FreeTcp(), ["s3"] = Ports.FreeTcp(), ["s4"] = Ports.FreeTcp() };
    private readonly DemoLazyBackend _lazy = new(Ports.FreeTcp());
    private DemoAppProcesses _apps = null!;
    private HttpLoad _load = null!;

    /// <summary>The time since the start on the demo's clock.</summary>
    private TimeSpan Now => _clock.Elapsed * speed;

    /// <summary>The real time for <paramref name="demoTime"/> on the demo's clock.</summary>
    private TimeSpan Real(TimeSpan demoTime) => demoTime / speed;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (HaproxyBinary.Problem is { } problem)
        {
            output.WriteLine($"error: {problem}");
            return ExitCodes.Failure;
        }

        using var dir = TempDirectory.At(Path.Combine(Path.GetTempPath(), "haproxy-autoscale-demo-" + Environment.ProcessId));
        TimeSpan coldStart = Real(TimeSpan.FromSeconds(1));
        await using DemoAppProcesses apps = _apps = new DemoAppProcesses(DemoAppCommand.SelfInvocation(), name =>
            ["--name", name, "--port", (name == DemoLazyBackend.Server ? _lazy.Port : _ports[name]).ToString(CultureInfo.InvariantCulture), "--cold-start-ms", (name == "s1" ? 0 : (int)coldStart.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]);
        await apps.StartAsync(new ServerProviderTarget("app", "s1"), cancellationToken).ConfigureAwait(false); // the always-up app
        await using ILogSource logs = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0));
        int logPort = ((IPEndPoint)((DatagramLogSource)logs).LocalEndPoint).Port;
        int frontendPort = Ports.FreeTcp();
        string socket = dir.File("admin.sock");
        HaproxyConfig config = DemoConfig(socket, logPort, frontendPort, _ports);
        await _lazy.AddToAsync(config, dir, cancellationToken).ConfigureAwait(false);
        Haproxy haproxy;
        try
        {
            haproxy = await Haproxy.StartAsync(config, dir, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            output.WriteLine($"error: haproxy did not start: {e.Message}");
            return ExitCodes.Failure;
        }

        await using (haproxy.ConfigureAwait(false))
        {
            output.WriteLine($"HAProxy {haproxy.Pid} on http://127.0.0.1:{frontendPort}/ with app processes s1 (always up, pid {apps.Running[0].Pid}) and s2-s4 (stopped: started when needed, 1 s cold start, kept warm {Durations.Format(KeepWarm)} once parked, then stopped); logs over UDP to 127.0.0.1:{logPort}");
            output.WriteLine($"Load ramps up to {MaxClients} clients and back to none over {Durations.Format(duration)}.");
            output.WriteLine($"Backend {DemoLazyBackend.Name} (http://127.0.0.1:{frontendPort}/{DemoLazyBackend.Name}/, app {DemoLazyBackend.Server} stopped, minActive 0) sleeps at zero behind the Lua hold until a burst of {DemoLazyBackend.Burst} requests at {Durations.Format(BurstAt)} wakes it.");
            if (speed != 1)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"The demo's clock runs {speed:0.##} times faster: it takes {Durations.Format(Real(duration))}, times at the left are on the demo's clock."));
            }

            output.WriteLine();

            using var loggers = LoggerFactory.Create(b => b.AddProvider(new TimelineLogger(this)).SetMinimumLevel(LogLevel.Information));
            var builder = new AutoscalerBuilder(Options(socket)).UseLogSource(logs).UseLoggerFactory(loggers);
            builder.Providers.Add("demo", _ => apps);
            await using Autoscaler autoscaler = builder.Build();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _load = new HttpLoad(new Uri($"http://127.0.0.1:{frontendPort}/page"))
            {
                Clients = MaxClients,
                Duration = TimeSpan.MaxValue, // until stopped
                ActiveClients = () => ClientsAt(Now / duration),
                IdleWait = Real(TimeSpan.FromMilliseconds(100)),
                KeepLatencies = true,
            };
            _clock.Start();
            Task scaling = autoscaler.RunAsync(stop.Token);
            Task load = _load.RunAsync(stop.Token);
            Task? burst = null;
            while (Now < duration && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Real(TimeSpan.FromSeconds(1)), CancellationToken.None).ConfigureAwait(false);
                output.WriteLine(LiveLine(autoscaler));
                if (burst is null && Now >= BurstAt)
                {
                    TimeSpan at = Now;
                    burst = Task.Run(() => _lazy.BurstAsync(new Uri($"http://127.0.0.1:{frontendPort}/"), at, stop.Token), CancellationToken.None); // off the live line's loop
                }
            }

            if (burst is not null)
            {
                await burst.ConfigureAwait(false); // its held requests need the autoscaler (they are answered long before the end)
            }

            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(scaling, load).ConfigureAwait(false);
            await apps.DisposeAsync().ConfigureAwait(false); // every app process ends and reports what it served
            WriteSummary();
            return ExitCodes.Success;
        }
    }

    // The ramp: 1 client for the first 10 %, up to MaxClients at 35 %, held to 65 %, down to none at 72 %, then idle.
    private int ClientsAt(double progress) => progress switch
    {
        < 0.10 => 1,
        < 0.35 => 1 + (int)((MaxClients - 1) * (progress - 0.10) / 0.25),
        < 0.65 => MaxClients,
        < 0.72 => (int)(MaxClients * (0.72 - progress) / 0.07),
        _ => 0,
    };

    // The burst onto the lazy backend: a fifth in, so it is back at zero (and its app stopped) before the end.
    private TimeSpan BurstAt => duration / 5;

    private string LiveLine(Autoscaler autoscaler)
    {
        _clients = ClientsAt(Now / duration);
        IReadOnlyList<BackendSnapshot> snapshot = autoscaler.Snapshot();
        BackendSnapshot app = snapshot.First(b => b.Backend == "app");
        string window = app.Window.HasValue ? $"{app.Window.Value,5:0} ms" : "    - ms";
        string servers = string.Join("  ", app.Servers.Select(s => $"{s.Name}:{Admin.AdminJson.Lifecycle(s.Lifecycle),-8}"));
        IReadOnlyList<(string Server, int Pid)> running = [.. _apps.Running.Where(r => _ports.ContainsKey(r.Server))];
        string pids = string.Join(" ", running.Select(r => r.Pid.ToString(CultureInfo.InvariantCulture)));
        return string.Create(CultureInfo.InvariantCulture,
            $"{Now.TotalSeconds,5:0}s  clients {_clients,2}  window {window}  processes {running.Count}/{_ports.Count} (pid {pids,-23})  {servers}  ok {_load.Succeeded}  failed {_load.Failed}  {_lazy.Live(snapshot.First(b => b.Backend == DemoLazyBackend.Name), Now)}");
    }

    private void WriteSummary()
    {
        List<EndedApp> apps = [.. _apps.Ended.Where(a => _ports.ContainsKey(a.Server))];
        output.WriteLine();
        output.WriteLine("What the autoscaler did:");
        foreach ((TimeSpan at, string what) in _timeline)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  +{at.TotalSeconds,5:0.0}s  {what}"));
        }

        double[] latencies = [.. _load.Latencies.Order()];
        string percentiles = latencies.Length == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $", client latency p50 {latencies[latencies.Length / 2]:0} ms, p95 {latencies[(int)(latencies.Length * 0.95)]:0} ms");
        output.WriteLine($"Requests: {_load.Succeeded} ok, {_load.Failed} failed{percentiles}.");
        output.WriteLine("Requests served per app: " + string.Join(", ", apps.GroupBy(a => a.Server).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Sum(a => a.Served?.Requests ?? 0)}")));
        int unreported = apps.Count(a => a.Served is null);
        output.WriteLine("Cold starts paid by users: " + apps.Sum(a => a.Served?.ColdUsers ?? 0) + " (warm-ups absorbed " + apps.Sum(a => a.Served?.ColdWarmups ?? 0) + ")"
            + (unreported > 0 ? $"; {unreported} app processes were killed before they reported." : "."));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"App processes: {apps.Count} started and stopped: {string.Join(", ", apps.OrderBy(a => a.Server, StringComparer.Ordinal).Select(a => $"{a.Server} pid {a.Pid} ran {a.Lifetime.TotalSeconds * speed:0.0}s"))}; {_apps.Running.Count} left running."));
        // Keeping every app up: each runs as long as the always-up s1 did (from before the load to after it).
        double used = apps.Sum(a => a.Lifetime.TotalSeconds) * speed, allUp = _ports.Count * apps.Where(a => a.Server == "s1").Sum(a => a.Lifetime.TotalSeconds) * speed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"App-process-seconds: {used:0} with app processes started and stopped on demand ({apps.Count - 1} starts), {allUp:0} with all {_ports.Count} up: {100 * (1 - (used / allUp)):0} % saved."));
        foreach (string line in _lazy.Summary(_apps.Ended, speed))
        {
            output.WriteLine(line);
        }
    }

    private AutoscaleOptions Options(string socket)
    {
        var options = new AutoscaleOptions
        {
            EvaluationInterval = Real(TimeSpan.FromMilliseconds(250)),
            ReconcileInterval = Real(TimeSpan.FromSeconds(2)),
            // HAProxy's counters on the demo's clock too: open sessions keep a backend from idling until they are read again.
            CounterInterval = Real(TimeSpan.FromSeconds(1)),
        };
        options.Haproxy.Endpoints.Add(socket);
        // The default policy (concurrency), its windows on the demo's short clock: requests in flight per server.
        var backend = new BackendOptions { Name = "app", SettleTime = Real(TimeSpan.FromSeconds(2)) };
        backend.Window.Size = 20;
        backend.Policy.Settings["targetInFlight"] = "3";
        backend.Policy.Settings["stableWindow"] = Durations.Format(Real(TimeSpan.FromSeconds(6)));
        backend.Policy.Settings["panicWindow"] = Durations.Format(Real(TimeSpan.FromSeconds(1)));
        backend.Policy.Settings["scaleDownStabilization"] = Durations.Format(Real(TimeSpan.FromSeconds(4)));
        backend.Policy.Settings["idleScaleDown"] = Durations.Format(Real(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond * 2, duration.Ticks / 15))));
        backend.ScaleDown.DrainTimeout = Real(TimeSpan.FromSeconds(3));
        backend.Provider = new ServerProviderOptions { Kind = "demo", KeepWarm = Real(KeepWarm), Timeout = Real(TimeSpan.FromSeconds(10)) };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach ((string name, int port) in _ports.Skip(1))
        {
            backend.Servers.Add(new ServerOptions { Name = name, WarmupUrl = new Uri($"http://127.0.0.1:{port}/warmup") });
        }

        options.Backends.Add(backend);
        options.Backends.Add(DemoLazyBackend.Options(backend, new ServerProviderOptions { Kind = "demo", KeepWarm = Real(KeepWarm), Timeout = Real(TimeSpan.FromSeconds(10)) }, _lazy.Port,
            Real(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond * 4, duration.Ticks / 10)))));
        return options;
    }

    // A parked app is kept running this long (demo time) before it is stopped.
    private TimeSpan KeepWarm => TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond * 2, duration.Ticks / 12));

    // s1 in service, s2-s4 in maintenance until the autoscaler enables them; request logs over UDP.
    private static HaproxyConfig DemoConfig(string socket, int logPort, int frontendPort, Dictionary<string, int> ports) =>
        HaproxyConfig.ForApps(socket, frontendPort, HaproxyBackend.FirstUp("app", ports.Select(p => (p.Key, p.Value))), HaproxyLogTarget.Udp(logPort));

    // Turns the engine's decision and action events into the demo's timeline.
    private sealed class TimelineLogger(DemoRunner demo) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id is AutoscaleEventIds.Decision or AutoscaleEventIds.ActionCompleted or AutoscaleEventIds.ActionFailed or AutoscaleEventIds.WarmupFailed
                or AutoscaleEventIds.HeldByOperator or AutoscaleEventIds.Reapplied or AutoscaleEventIds.ServerStarted or AutoscaleEventIds.ServerStopped
                or AutoscaleEventIds.WakeStarted or AutoscaleEventIds.WakeReady or AutoscaleEventIds.WakeFailed)
            {
                demo._timeline.Enqueue((demo.Now, formatter(state, exception)));
            }
        }

        public void Dispose()
        {
        }
    }
}
