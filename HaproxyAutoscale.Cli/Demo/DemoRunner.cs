using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary>
/// The zero-set-up demo: a real HAProxy (from PATH) on loopback, four lazily started apps behind it, each its own
/// process (this CLI's hidden <c>demo-app</c>; s1 always up, s2-s4 stopped until needed: started through a server
/// provider, kept warm once parked, then stopped), a load ramp up and down from in-process clients, and the autoscaler
/// reading HAProxy's logs over UDP. Prints a live line per second (app processes running with their PIDs, each
/// server's lifecycle) and a summary of what was scaled and when, and of the app-process-seconds used against keeping
/// every app up. Everything runs on 127.0.0.1 and every process it starts is stopped by its PID.
/// </summary>
/// <remarks>
/// <paramref name="speed"/> runs the demo's clock faster (the tests use it): the ramp, the live line, the apps' cold
/// start and the autoscaler's intervals are divided by it, and times are shown on the demo's clock. The apps'
/// response times are not: they are what the autoscaler measures against its threshold.
/// </remarks>
internal sealed class DemoRunner(TextWriter output, TimeSpan duration, double speed = 1)
{
    private const int MaxClients = 16;
    private readonly ConcurrentQueue<(TimeSpan At, string What)> _timeline = new();
    private readonly ConcurrentBag<double> _latencies = [];
    private readonly Stopwatch _clock = new();
    private long _ok;
    private long _failed;
    private int _clients;
    private readonly Dictionary<string, int> _ports = new(StringComparer.Ordinal) { ["s1"] = FreePort(), ["s2"] = FreePort(), ["s3"] = FreePort(), ["s4"] = FreePort() };
    private DemoAppProcesses _apps = null!;

    /// <summary>The time since the start on the demo's clock.</summary>
    private TimeSpan Now => _clock.Elapsed * speed;

    /// <summary>The real time for <paramref name="demoTime"/> on the demo's clock.</summary>
    private TimeSpan Real(TimeSpan demoTime) => demoTime / speed;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        string? haproxyPath = FindHaproxy();
        if (haproxyPath is null)
        {
            output.WriteLine("error: haproxy is not installed (looked on PATH and in /usr/sbin): apt-get install -y haproxy");
            return ExitCodes.Failure;
        }

        string dir = Path.Combine(Path.GetTempPath(), "haproxy-autoscale-demo-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        TimeSpan coldStart = Real(TimeSpan.FromSeconds(1));
        await using DemoAppProcesses apps = _apps = new DemoAppProcesses(DemoAppCommand.SelfInvocation(), name =>
            ["--name", name, "--port", _ports[name].ToString(CultureInfo.InvariantCulture), "--cold-start-ms", (name == "s1" ? 0 : (int)coldStart.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)]);
        Process? haproxy = null;
        try
        {
            await apps.StartAsync(new ServerProviderTarget("app", "s1"), cancellationToken).ConfigureAwait(false); // the always-up app
            await using ILogSource logs = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0));
            int logPort = ((IPEndPoint)((DatagramLogSource)logs).LocalEndPoint).Port;
            int frontendPort = FreePort();
            string socket = Path.Combine(dir, "admin.sock");
            string config = Path.Combine(dir, "haproxy.cfg");
            await File.WriteAllTextAsync(config, HaproxyConfig(socket, logPort, frontendPort, _ports), cancellationToken).ConfigureAwait(false);
            haproxy = Process.Start(new ProcessStartInfo(haproxyPath) { ArgumentList = { "-db", "-f", config }, RedirectStandardOutput = true, RedirectStandardError = true })!;
            if (!await WaitForAsync(() => File.Exists(socket) || haproxy.HasExited, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false) || haproxy.HasExited)
            {
                output.WriteLine($"error: haproxy did not start: {await haproxy.StandardError.ReadToEndAsync(cancellationToken).ConfigureAwait(false)}");
                return ExitCodes.Failure;
            }

            output.WriteLine($"HAProxy {haproxy.Id} on http://127.0.0.1:{frontendPort}/ with app processes s1 (always up, pid {apps.Running[0].Pid}) and s2-s4 (stopped: started when needed, 1 s cold start, kept warm {Durations.Format(KeepWarm)} once parked, then stopped); logs over UDP to 127.0.0.1:{logPort}");
            output.WriteLine($"Load ramps up to {MaxClients} clients and back to none over {Durations.Format(duration)}.");
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
            _clock.Start();
            Task scaling = autoscaler.RunAsync(stop.Token);
            Task load = LoadAsync(frontendPort, stop.Token);
            while (Now < duration && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Real(TimeSpan.FromSeconds(1)), CancellationToken.None).ConfigureAwait(false);
                output.WriteLine(LiveLine(autoscaler));
            }

            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(scaling, load).ConfigureAwait(false);
            await apps.DisposeAsync().ConfigureAwait(false); // every app process ends and reports what it served
            WriteSummary();
            return ExitCodes.Success;
        }
        finally
        {
            if (haproxy is { HasExited: false })
            {
                haproxy.Kill();
                await haproxy.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            haproxy?.Dispose();
            Directory.Delete(dir, recursive: true);
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

    private async Task LoadAsync(int port, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var workers = new List<Task>();
        for (int id = 0; id < MaxClients; id++)
        {
            int client = id;
            workers.Add(Task.Run(async () =>
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    if (client >= ClientsAt(Now / duration))
                    {
                        await Task.Delay(Real(TimeSpan.FromMilliseconds(100)), CancellationToken.None).ConfigureAwait(false);
                        continue;
                    }

                    long started = Stopwatch.GetTimestamp();
                    try
                    {
                        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/page"), CancellationToken.None).ConfigureAwait(false);
                        Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _ok : ref _failed);
                        _latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref _failed);
                    }
                }
            }, CancellationToken.None));
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
    }

    private string LiveLine(Autoscaler autoscaler)
    {
        _clients = ClientsAt(Now / duration);
        BackendSnapshot app = autoscaler.Snapshot()[0];
        string window = app.Window.HasValue ? $"{app.Window.Value,5:0} ms" : "    - ms";
        string servers = string.Join("  ", app.Lifecycle.Select(s => $"{s.Server}:{Admin.AdminJson.Lifecycle(s.State),-8}"));
        IReadOnlyList<(string Server, int Pid)> running = _apps.Running;
        string pids = string.Join(" ", running.Select(r => r.Pid.ToString(CultureInfo.InvariantCulture)));
        return string.Create(CultureInfo.InvariantCulture,
            $"{Now.TotalSeconds,5:0}s  clients {_clients,2}  window {window}  processes {running.Count}/{_ports.Count} (pid {pids,-23})  {servers}  ok {Interlocked.Read(ref _ok)}  failed {Interlocked.Read(ref _failed)}");
    }

    private void WriteSummary()
    {
        List<EndedApp> apps = [.. _apps.Ended];
        output.WriteLine();
        output.WriteLine("What the autoscaler did:");
        foreach ((TimeSpan at, string what) in _timeline)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  +{at.TotalSeconds,5:0.0}s  {what}"));
        }

        double[] latencies = [.. _latencies.Order()];
        string percentiles = latencies.Length == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $", client latency p50 {latencies[latencies.Length / 2]:0} ms, p95 {latencies[(int)(latencies.Length * 0.95)]:0} ms");
        output.WriteLine($"Requests: {Interlocked.Read(ref _ok)} ok, {Interlocked.Read(ref _failed)} failed{percentiles}.");
        output.WriteLine("Requests served per app: " + string.Join(", ", apps.GroupBy(a => a.Server).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"{g.Key} {g.Sum(a => a.Served?.Requests ?? 0)}")));
        int unreported = apps.Count(a => a.Served is null);
        output.WriteLine("Cold starts paid by users: " + apps.Sum(a => a.Served?.ColdUsers ?? 0) + " (warm-ups absorbed " + apps.Sum(a => a.Served?.ColdWarmups ?? 0) + ")"
            + (unreported > 0 ? $"; {unreported} app processes were killed before they reported." : "."));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"App processes: {apps.Count} started and stopped: {string.Join(", ", apps.OrderBy(a => a.Server, StringComparer.Ordinal).Select(a => $"{a.Server} pid {a.Pid} ran {a.Lifetime.TotalSeconds * speed:0.0}s"))}; {_apps.Running.Count} left running."));
        // Keeping every app up: each runs as long as the always-up s1 did (from before the load to after it).
        double used = _apps.RunningTime.TotalSeconds * speed, allUp = _ports.Count * apps.Where(a => a.Server == "s1").Sum(a => a.Lifetime.TotalSeconds) * speed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"App-process-seconds: {used:0} with app processes started and stopped on demand ({apps.Count - 1} starts), {allUp:0} with all {_ports.Count} up: {100 * (1 - (used / allUp)):0} % saved."));
    }

    private AutoscaleOptions Options(string socket)
    {
        var options = new AutoscaleOptions
        {
            EvaluationInterval = Real(TimeSpan.FromMilliseconds(250)),
            ReconcileInterval = Real(TimeSpan.FromSeconds(2)),
        };
        options.Haproxy.Endpoints.Add(socket);
        var backend = new BackendOptions { Name = "app", Policy = { Kind = Policies.ScalingPolicyNames.Threshold }, SettleTime = Real(TimeSpan.FromSeconds(2)) };
        backend.Window.Size = 20;
        backend.Policy.Settings["thresholdMs"] = "150";
        backend.Policy.Settings["breaches"] = "3";
        backend.Policy.Settings["idleScaleDown"] = Durations.Format(Real(TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond * 2, duration.Ticks / 15))));
        backend.ScaleDown.DrainTimeout = Real(TimeSpan.FromSeconds(3));
        backend.Provider = new ServerProviderOptions { Kind = "demo", KeepWarm = Real(KeepWarm), Timeout = Real(TimeSpan.FromSeconds(10)) };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach ((string name, int port) in _ports.Skip(1))
        {
            backend.Servers.Add(new ServerOptions { Name = name, WarmupUrl = new Uri($"http://127.0.0.1:{port}/warmup") });
        }

        options.Backends.Add(backend);
        return options;
    }

    // A parked app is kept running this long (demo time) before it is stopped.
    private TimeSpan KeepWarm => TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond * 2, duration.Ticks / 12));

    private static string HaproxyConfig(string socket, int logPort, int frontendPort, Dictionary<string, int> ports) => $"""
        global
            stats socket {socket} mode 600 level admin
            log 127.0.0.1:{logPort} local0
        defaults
            mode http
            log global
            option httplog
            timeout connect 1s
            timeout client 10s
            timeout server 10s
        frontend demo
            bind 127.0.0.1:{frontendPort}
            default_backend app
        backend app
            balance roundrobin
        {string.Join("\n", ports.Select((a, i) => $"    server {a.Key} 127.0.0.1:{a.Value} weight 10{(i == 0 ? "" : " disabled")}"))}

        """;

    private static string? FindHaproxy() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Select(d => Path.Combine(d, "haproxy")).FirstOrDefault(File.Exists);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    // Turns the engine's decision and action events into the demo's timeline.
    private sealed class TimelineLogger(DemoRunner demo) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id is 2 or 4 or 5 or 6 or 7 or 8 or AutoscaleEventIds.ServerStarted or AutoscaleEventIds.ServerStopped)
            {
                demo._timeline.Enqueue((demo.Now, formatter(state, exception)));
            }
        }

        public void Dispose()
        {
        }
    }
}
