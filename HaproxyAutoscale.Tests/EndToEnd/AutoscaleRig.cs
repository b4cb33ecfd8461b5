using System.Net;
using HaproxyAutoscale.Benchmarks;
using HaproxyAutoscale.Cli.Demo;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// A real HAProxy in front of three demo apps (s1 always up; s2 and s3 declared disabled, warmed up through
/// /warmup), logging over UDP to a real autoscaler with short intervals; plus a bounded load generator.
/// </summary>
internal sealed class AutoscaleRig : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ListLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private Task _running = Task.CompletedTask;
    private ILogSource? _source;
    private readonly List<IAsyncDisposable> _owned = [];
    private long _ok;
    private long _failed;

    private AutoscaleRig()
    {
        _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        Apps = [new DemoAppServer("s1") { ColdStart = TimeSpan.Zero }, new DemoAppServer("s2"), new DemoAppServer("s3")];
        foreach (DemoAppServer app in Apps)
        {
            app.BaseDelay = TimeSpan.FromMilliseconds(10);
            app.PerRequestDelay = TimeSpan.FromMilliseconds(40);
        }
    }

    public DemoAppServer[] Apps { get; }

    public Haproxy Haproxy { get; private set; } = null!;

    public IHaproxyControl Control { get; private set; } = null!;

    public Autoscaler Autoscaler { get; private set; } = null!;

    public int FrontendPort { get; } = Ports.FreeTcp();

    public IReadOnlyCollection<(LogLevel Level, int EventId, string Message)> Logs => _logs.Entries;

    public long Succeeded => Interlocked.Read(ref _ok);

    public long Failed => Interlocked.Read(ref _failed);

    public string Endpoint => _dir.File("admin.sock");

    public AutoscaleOptions Options { get; private set; } = null!;

    /// <summary>Where HAProxy sends its logs: the autoscaler's UDP socket on loopback.</summary>
    public IPEndPoint LogEndPoint => (IPEndPoint)((DatagramLogSource)_source!).LocalEndPoint;

    /// <summary>The log relay between HAProxy and the autoscaler, when started with one.</summary>
    public UdpRelay? Relay { get; private set; }

    /// <summary>
    /// Starts the rig; <paramref name="build"/> may replace parts of the autoscaler (a custom warm-up, control, policy…),
    /// <paramref name="configureOptions"/> change the global options (intervals, back-off, <c>logs.allowFrom</c> for the rig's
    /// log source), <paramref name="serverTimeout"/> is HAProxy's;
    /// with <paramref name="relay"/> HAProxy logs through a <see cref="UdpRelay"/>.
    /// </summary>
    public static async Task<AutoscaleRig> StartAsync(Action<BackendOptions>? configure = null, string? s2WarmupUrl = null, bool dryRun = false, Action<AutoscalerBuilder, AutoscaleRig>? build = null, string weight = " weight 10",
        Action<AutoscaleOptions>? configureOptions = null, string serverTimeout = "10s", bool relay = false)
    {
        var rig = new AutoscaleRig();
        var options = new AutoscaleOptions
        {
            EvaluationInterval = TimeSpan.FromMilliseconds(200),
            ReconcileInterval = TimeSpan.FromMilliseconds(500),
            CounterInterval = TimeSpan.FromMilliseconds(500),
        };
        options.Warmup.FailureBackoff = TimeSpan.FromSeconds(30);
        options.Warmup.Attempts = 2;
        options.Warmup.RetryDelay = TimeSpan.FromMilliseconds(100);
        var backend = new BackendOptions { Name = "app", Policy = { Kind = "threshold" }, SettleTime = TimeSpan.FromSeconds(1) };
        backend.Window.Size = 10;
        backend.Policy.Kind = "threshold";
        backend.Policy.Settings["thresholdMs"] = "150";
        backend.Policy.Settings["breaches"] = "2";
        backend.Policy.Settings["idleScaleDown"] = "2s";
        backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(3);
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        backend.Servers.Add(new ServerOptions { Name = "s2", WarmupUrl = new Uri(s2WarmupUrl ?? $"http://127.0.0.1:{rig.Apps[1].Port}/warmup") });
        backend.Servers.Add(new ServerOptions { Name = "s3", WarmupUrl = new Uri($"http://127.0.0.1:{rig.Apps[2].Port}/warmup") });
        configure?.Invoke(backend);
        options.Backends.Add(backend);
        configureOptions?.Invoke(options);
        rig.Options = options;

        ILogSource logs = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0), AutoscalerBuilder.DatagramOptions(options));
        int logPort = ((IPEndPoint)((DatagramLogSource)logs).LocalEndPoint).Port;
        if (relay)
        {
            rig.Relay = new UdpRelay(new IPEndPoint(IPAddress.Loopback, logPort));
            logPort = rig.Relay.Port; // HAProxy logs to the relay, the relay to the autoscaler
        }

        rig.Haproxy = await Haproxy.StartAsync($$"""
            global
                stats socket {dir}/admin.sock mode 600 level admin
                log 127.0.0.1:{{logPort}} local0
            defaults
                mode http
                log global
                option httplog
                timeout connect 1s
                timeout client 10s
                timeout server {{serverTimeout}}
            frontend fe
                bind 127.0.0.1:{{rig.FrontendPort}}
                default_backend app
            backend app
                balance roundrobin
                server s1 127.0.0.1:{{rig.Apps[0].Port}}{{weight}}
                server s2 127.0.0.1:{{rig.Apps[1].Port}}{{weight}} disabled
                server s3 127.0.0.1:{{rig.Apps[2].Port}}{{weight}} disabled
            """, rig._dir, rig._dir.File("admin.sock"));
        await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
        options.Haproxy.Endpoints.Add(rig._dir.File("admin.sock"));
        rig.Control = HaproxyControl.Create(rig._dir.File("admin.sock"));
        var builder = new AutoscalerBuilder(options).UseLogSource(logs).UseLoggerFactory(rig._loggerFactory).DryRun(dryRun);
        build?.Invoke(builder, rig);
        rig.Autoscaler = builder.Build();
        rig._source = logs;
        rig._running = rig.Autoscaler.RunAsync(rig._stop.Token);
        return rig;
    }

    /// <summary>Sends requests from <paramref name="clients"/> concurrent loops until the token is cancelled or the time limit.</summary>
    public Task LoadAsync(int clients, TimeSpan limit, CancellationToken cancellationToken)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var until = DateTime.UtcNow + limit;
        CancellationToken token = cancellationToken;
        Task[] loops = [.. Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (!token.IsCancellationRequested && !_stop.IsCancellationRequested && DateTime.UtcNow < until)
            {
                try
                {
                    using HttpResponseMessage response = await http.GetAsync($"http://127.0.0.1:{FrontendPort}/page");
                    Interlocked.Increment(ref response.IsSuccessStatusCode ? ref _ok : ref _failed);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref _failed);
                }
            }
        }))];
        return Task.WhenAll(loops).ContinueWith(_ => http.Dispose(), TaskScheduler.Default);
    }

    public async Task<string> StatusOfAsync(string server) =>
        (await Control.ShowStatAsync()).Single(r => r.Backend == "app" && r.Server == server).Status;

    public Task WaitForStatusAsync(string server, Func<string, bool> condition, string what, int seconds = 20) =>
        Poll.UntilAsync(() => condition(StatusOfAsync(server).GetAwaiter().GetResult()), TimeSpan.FromSeconds(seconds), $"{server} {what}");

    /// <summary>Disposes <paramref name="disposable"/> with the rig (a control a test supplied to the autoscaler).</summary>
    public void Own(IAsyncDisposable disposable) => _owned.Add(disposable);

    /// <summary>The autoscaler's run: faults if it failed.</summary>
    public Task Running => _running;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (Exception) when (_running.IsFaulted)
        {
            // a test that makes the run fail has observed it already
        }

        await Autoscaler.DisposeAsync();
        foreach (IAsyncDisposable owned in _owned)
        {
            await owned.DisposeAsync();
        }
        if (_source is not null)
        {
            await _source.DisposeAsync(); // the rig supplied it: the autoscaler leaves it to the rig
        }
        await Control.DisposeAsync();
        await Haproxy.DisposeAsync();
        Relay?.Dispose();
        foreach (DemoAppServer app in Apps)
        {
            await app.DisposeAsync();
        }

        _loggerFactory.Dispose();
        _dir.Dispose();
        _stop.Dispose();
    }
}
