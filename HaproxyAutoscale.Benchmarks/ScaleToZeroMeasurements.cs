using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// Wake-to-first-byte against a real HAProxy holding requests with the shipped Lua script: a backend at zero (one
/// server, a python app with a cold start, started and stopped by the exec provider) gets one request on a fresh
/// connection; time to its first byte, the up action's own duration (start + warm-up + enable, event 4) and the rest
/// (the overhead of the wake: Lua, the wake line, the decision, the Lua poll after enable). Then the backend idles back
/// to zero (idle 1 s, keepWarm 0) and the next wake starts. Loopback only; bounded by the number of wakes.
/// </summary>
public static partial class ScaleToZeroMeasurements
{
    private const string App = """
        import http.server, os, socketserver, sys, time
        port, cold, ready = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
        time.sleep(cold)
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.0'
            def do_GET(self):
                self.send_response(200)
                self.send_header('Content-Length', '2')
                self.end_headers()
                self.wfile.write(b'ok')
            def log_message(self, *args):
                pass
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
        server = Server(('127.0.0.1', port), Handler)
        open(ready, 'w').close()
        server.serve_forever()
        """;

    public static async Task RunAsync(int wakes, double coldStartSeconds)
    {
        using var dir = new TempDirectory();
        int appPort = Ports.FreeTcp(), frontendPort = Ports.FreeTcp(), logPort = Ports.FreeUdp();
        File.WriteAllText(dir.File("app.py"), App);
        string cold = coldStartSeconds.ToString(CultureInfo.InvariantCulture);
        string start = $"rm -f {dir.Path}/ready; setsid python3 {dir.Path}/app.py {appPort} {cold} {dir.Path}/ready </dev/null >/dev/null 2>&1 & echo $! > {dir.Path}/pid; "
            + $"for i in $(seq 1 2000); do [ -f {dir.Path}/ready ] && break; sleep 0.005; done; [ -f {dir.Path}/ready ] && echo 127.0.0.1:{appPort}";
        string stop = $"[ -f {dir.Path}/pid ] && kill $(cat {dir.Path}/pid) 2>/dev/null; rm -f {dir.Path}/pid {dir.Path}/ready; exit 0";
        string status = $"[ -f {dir.Path}/pid ] && kill -0 $(cat {dir.Path}/pid) 2>/dev/null && exit 0; exit 3";

        var servers = new HaproxyBackend("app") { Lines = { LuaHold.HoldWith(30) }, Servers = { new("s1", appPort) { Disabled = true } } };
        HaproxyConfig config = HaproxyConfig.ForApps(dir.File("admin.sock"), frontendPort, servers, HaproxyLogTarget.Udp(logPort));
        config.Global.Add(LuaHold.Load(dir));
        await using Haproxy haproxy = await Haproxy.StartAsync(config, dir);
        await haproxy.WaitForPortAsync(frontendPort);

        var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.FromMilliseconds(100), ReconcileInterval = TimeSpan.FromSeconds(1), CounterInterval = TimeSpan.FromMilliseconds(200) };
        options.Haproxy.Endpoints.Add(dir.File("admin.sock"));
        options.Logs.Source = $"udp@127.0.0.1:{logPort}";
        var backend = new BackendOptions { Name = "app", MinActive = 0, SettleTime = TimeSpan.Zero, Policy = { Kind = "concurrency" } };
        backend.Window.Kind = "time";
        backend.Window.Duration = TimeSpan.FromMilliseconds(500);
        backend.Policy.Settings["idleScaleDown"] = "1s";
        backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(2);
        backend.Servers.Add(new ServerOptions { Name = "s1", WarmupUrl = new Uri($"http://127.0.0.1:{appPort}/warmup") });
        var provider = new ServerProviderOptions { Kind = "exec", KeepWarm = TimeSpan.Zero, Timeout = TimeSpan.FromSeconds(30) };
        provider.Lists["start"] = ["bash", "-c", start];
        provider.Lists["stop"] = ["bash", "-c", stop];
        provider.Lists["status"] = ["bash", "-c", status];
        backend.Provider = provider;
        options.Backends.Add(backend);

        var events = new Events();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(events));
        await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLoggerFactory(loggers).Build();
        using var stopping = new CancellationTokenSource();
        Task running = autoscaler.RunAsync(stopping.Token);
        var firstByte = new List<double>();
        var up = new List<double>();
        var overhead = new List<double>();
        var toWake = new List<double>();
        int extraWakes = 0;
        try
        {
            for (int wake = 0; wake < wakes; wake++)
            {
                await Poll.UntilAsync(() => autoscaler.Snapshot()[0].AtZero && !File.Exists(dir.File("pid")), TimeSpan.FromSeconds(60), "the backend at zero, its app stopped");
                int completedBefore = events.UpDurations.Count;
                using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(60) };
                long sent = Stopwatch.GetTimestamp();
                using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{frontendPort}/"), HttpCompletionOption.ResponseHeadersRead);
                double ms = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
                if ((int)response.StatusCode != 200)
                {
                    throw new InvalidOperationException($"wake {wake + 1}: {(int)response.StatusCode}");
                }

                await Poll.UntilAsync(() => events.UpDurations.Count > completedBefore, TimeSpan.FromSeconds(10), "the scale-up logged");
                double upMs = events.UpDurations.ElementAt(completedBefore);
                firstByte.Add(ms);
                up.Add(upMs);
                overhead.Add(ms - upMs);
                long[] woken = [.. events.WakeStarted.Where(t => t >= sent)];
                extraWakes += Math.Max(0, woken.Length - 1);
                toWake.Add(woken.Length > 0 ? Stopwatch.GetElapsedTime(sent, woken[0]).TotalMilliseconds : double.NaN);
            }
        }
        finally
        {
            await stopping.CancelAsync();
            await running;
            if (File.Exists(dir.File("pid")))
            {
                using Process? cleanup = Process.Start("bash", ["-c", stop]);
                await cleanup!.WaitForExitAsync();
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{wakes} wakes, app cold start {cold} s, HAProxy {HaproxyBinary.Path}"));
        Console.WriteLine($"wake to first byte:                     {Summary(firstByte)}");
        Console.WriteLine($"start + warm-up + enable (event 4):     {Summary(up)}");
        Console.WriteLine($"overhead beyond start + warm-up:        {Summary(overhead)}");
        Console.WriteLine($"request sent -> wake decided (event 60): {Summary(toWake)}; wake decisions beyond one per request: {extraWakes}");
    }

    private static string Summary(List<double> samples)
    {
        double[] sorted = [.. samples.Order()];
        return string.Create(CultureInfo.InvariantCulture, $"median {sorted[sorted.Length / 2]:0} ms, p90 {sorted[(int)(sorted.Length * 0.9)]:0} ms, min {sorted[0]:0} ms, max {sorted[^1]:0} ms");
    }

    [GeneratedRegex(@"^app/s1: up done in (\d+) ms")]
    private static partial Regex UpDone();

    private sealed class Events : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<double> UpDurations { get; } = new();

        public ConcurrentQueue<long> WakeStarted { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Id == AutoscaleEventIds.WakeStarted)
            {
                WakeStarted.Enqueue(Stopwatch.GetTimestamp());
            }
            else if (eventId.Id == AutoscaleEventIds.ActionCompleted && UpDone().Match(formatter(state, exception)) is { Success: true } match)
            {
                UpDurations.Enqueue(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
            }
        }

        public void Dispose()
        {
        }
    }
}
