using System.Diagnostics;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Scale to zero for real: an HAProxy whose backend <c>app</c> holds requests with the shipped Lua script
/// (<see cref="LuaHold"/>) and sends its logs (wake lines included) over UDP to an in-process autoscaler; one server,
/// s1, <c>minActive: 0</c>, a python app started and stopped by the <c>exec</c> provider's scripts
/// (<see cref="ScriptedApps"/>) with a cold start; the concurrency policy (50 in flight per server) and time-scaled
/// settings: idle after 1 s, kept warm 200 ms.
/// </summary>
internal sealed partial class ScaleToZeroRig : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ListLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;

    private readonly EventClock _events = new();

    private ScaleToZeroRig() => _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).AddProvider(_events).SetMinimumLevel(LogLevel.Debug));

    public ScriptedApps Apps { get; } = new();

    public Haproxy Haproxy { get; private set; } = null!;

    public IHaproxyControl Control { get; private set; } = null!;

    public Autoscaler Autoscaler { get; private set; } = null!;

    public AutoscaleOptions Options { get; } = new()
    {
        EvaluationInterval = TimeSpan.FromMilliseconds(100),
        ReconcileInterval = TimeSpan.FromMilliseconds(500),
        CounterInterval = TimeSpan.FromMilliseconds(200),
    };

    public int FrontendPort { get; } = Ports.FreeTcp();

    public IReadOnlyCollection<(LogLevel Level, int EventId, string Message)> Logs => _logs.Entries;

    /// <summary>HAProxy (hold up to <paramref name="holdSeconds"/>), the app scripts (cold start <paramref name="coldStart"/>) and the autoscaler, started.</summary>
    public static async Task<ScaleToZeroRig> StartAsync(int holdSeconds, TimeSpan coldStart)
    {
        var rig = new ScaleToZeroRig();
        int appPort = Ports.FreeTcp(), logPort = Ports.FreeUdp();
        rig.Apps.SetPort("s1", appPort);
        rig.Apps.SetStartDelay(coldStart);
        rig.Options.Warmup.Attempts = 3;
        rig.Options.Warmup.RetryDelay = TimeSpan.FromMilliseconds(100);
        rig.Options.Warmup.FailureBackoff = TimeSpan.FromSeconds(30);
        rig.Options.Logs.Source = $"udp@127.0.0.1:{logPort}";
        var backend = new BackendOptions { Name = "app", MinActive = 0, SettleTime = TimeSpan.FromMilliseconds(200), Policy = { Kind = "concurrency" } };
        backend.Window.Kind = "time";
        backend.Window.Duration = TimeSpan.FromSeconds(1);
        foreach ((string key, string value) in new[]
        {
            ("targetInFlight", "50"), ("stableWindow", "2s"), ("panicWindow", "1s"), ("scaleDownStabilization", "0s"), ("idleScaleDown", "1s"),
        })
        {
            backend.Policy.Settings[key] = value;
        }

        backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(2);
        backend.Servers.Add(new ServerOptions { Name = "s1", WarmupUrl = new Uri($"http://127.0.0.1:{appPort}/warmup") });
        backend.Provider = rig.Apps.Provider(keepWarm: TimeSpan.FromMilliseconds(200), timeout: TimeSpan.FromSeconds(10));
        rig.Options.Backends.Add(backend);

        var servers = new HaproxyBackend("app") { Lines = { LuaHold.HoldWith(holdSeconds) }, Servers = { new("s1", appPort) { Disabled = true } } };
        HaproxyConfig config = HaproxyConfig.ForApps(rig._dir.File("admin.sock"), rig.FrontendPort, servers, HaproxyLogTarget.Udp(logPort));
        config.Global.Add(LuaHold.Load(rig._dir));
        rig.Haproxy = await Haproxy.StartAsync(config, rig._dir);
        await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
        rig.Options.Haproxy.Endpoints.Add(rig._dir.File("admin.sock"));
        rig.Control = HaproxyControl.Create(rig._dir.File("admin.sock"));
        rig.Autoscaler = new AutoscalerBuilder(rig.Options).UseLoggerFactory(rig._loggerFactory).Build();
        rig._running = rig.Autoscaler.RunAsync(rig._stop.Token);
        return rig;
    }

    public BackendSnapshot Snapshot => Autoscaler.Snapshot().Single();

    /// <summary>HAProxy's streams now (<c>show sess</c>, this CLI session included).</summary>
    // Request streams only: the stats socket's own sessions (fe=GLOBAL: this "show sess", the autoscaler's polls) come
    // and go with the polling and say nothing about held requests.
    public async Task<int> SessionsAsync() =>
        (await Control.ExecuteAsync("show sess")).Split('\n').Count(l => l.StartsWith("0x", StringComparison.Ordinal) && !l.Contains(" fe=GLOBAL ", StringComparison.Ordinal));

    /// <summary>
    /// <paramref name="count"/> concurrent GETs on a fresh connection each; every answer's status, its headers'
    /// arrival after the burst started, and its Retry-After.
    /// </summary>
    public async Task<List<(int Status, TimeSpan After, TimeSpan? RetryAfter)>> BurstAsync(int count)
    {
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(60) };
        BurstStarted = Stopwatch.GetTimestamp();
        var clock = Stopwatch.StartNew();
        var uri = new Uri($"http://127.0.0.1:{FrontendPort}/burst");
        return [.. await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
                TimeSpan after = clock.Elapsed;
                await response.Content.ReadAsStringAsync();
                return ((int)response.StatusCode, after, response.Headers.RetryAfter?.Delta);
            }
            catch (HttpRequestException)
            {
                return (0, clock.Elapsed, (TimeSpan?)null); // a reset or a refused connection
            }
        }))];
    }

    /// <summary>When the last burst started (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long BurstStarted { get; private set; }

    /// <summary>The durations of s1's completed scale-ups (start, warm-up, enable), in the order they completed.</summary>
    public List<int> UpDurationsMs() =>
        [.. Logs.Where(e => e.EventId == AutoscaleEventIds.ActionCompleted).Select(e => UpDone().Match(e.Message)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>When (<see cref="Stopwatch.GetTimestamp"/>) each event with id <paramref name="eventId"/> was logged, in order.</summary>
    public List<long> EventTimes(int eventId) => [.. _events.Entries.Where(e => e.EventId == eventId).Select(e => e.Timestamp)];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _running;
        await Autoscaler.DisposeAsync();
        await Control.DisposeAsync();
        await Haproxy.DisposeAsync();
        Apps.Dispose();
        _loggerFactory.Dispose();
        _dir.Dispose();
        _stop.Dispose();
    }

    [GeneratedRegex(@"^app/s1: up done in (\d+) ms")]
    private static partial Regex UpDone();

    // The time each event was logged, to split a wake's delay into its parts.
    private sealed class EventClock : ILoggerProvider, ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<(int EventId, long Timestamp)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((eventId.Id, Stopwatch.GetTimestamp()));

        public void Dispose()
        {
        }
    }
}
