using System.Net;
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
    private readonly HttpAnswerCounts _answers = new();

    private AutoscaleRig() => _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));

    public DemoAppServer[] Apps { get; } = AppServers.Three();

    public Haproxy Haproxy { get; private set; } = null!;

    public IHaproxyControl Control { get; private set; } = null!;

    public Autoscaler Autoscaler { get; private set; } = null!;

    public int FrontendPort { get; } = Ports.FreeTcp();

    public IReadOnlyCollection<(LogLevel Level, int EventId, string Message)> Logs => _logs.Entries;

    public long Succeeded => _answers.Succeeded;

    public long Failed => _answers.Failed;

    public string Endpoint => _dir.File("admin.sock");

    public AutoscaleOptions Options { get; private set; } = null!;

    /// <summary>Where HAProxy sends its logs: the autoscaler's UDP socket on loopback.</summary>
    public IPEndPoint LogEndPoint => (IPEndPoint)((DatagramLogSource)_source!).LocalEndPoint;

    /// <summary>The log relay between HAProxy and the autoscaler, when started with one.</summary>
    public UdpRelay? Relay { get; private set; }

    /// <summary>
    /// Starts the rig; <paramref name="build"/> may replace parts of the autoscaler (a custom warm-up, control, policy…),
    /// <paramref name="configureOptions"/> change the global options (intervals, back-off, <c>logs.allowFrom</c> for the rig's
    /// log source), <paramref name="serverTimeout"/> is HAProxy's, <paramref name="weight"/> the servers' in haproxy.cfg (null: none);
    /// with <paramref name="relay"/> HAProxy logs through a <see cref="UdpRelay"/>; <paramref name="configureHaproxy"/> adds to haproxy.cfg (more backends).
    /// </summary>
    public static async Task<AutoscaleRig> StartAsync(Action<BackendOptions>? configure = null, string? s2WarmupUrl = null, bool dryRun = false, Action<AutoscalerBuilder, AutoscaleRig>? build = null, int? weight = 10,
        Action<AutoscaleOptions>? configureOptions = null, string serverTimeout = "10s", bool relay = false, Action<HaproxyConfig, AutoscaleRig>? configureHaproxy = null)
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

        HaproxyConfig config = HaproxyConfig.ForApps(rig.Endpoint, rig.FrontendPort, AppServers.Backend(rig.Apps, weight), HaproxyLogTarget.Udp(logPort));
        config.ServerTimeout = serverTimeout;
        configureHaproxy?.Invoke(config, rig);
        rig.Haproxy = await Haproxy.StartAsync(config, rig._dir);
        await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
        options.Haproxy.Endpoints.Add(rig.Endpoint);
        rig.Control = HaproxyControl.Create(rig.Endpoint);
        var builder = new AutoscalerBuilder(options).UseLogSource(logs).UseLoggerFactory(rig._loggerFactory).DryRun(dryRun);
        build?.Invoke(builder, rig);
        rig.Autoscaler = builder.Build();
        rig._source = logs;
        rig._running = rig.Autoscaler.RunAsync(rig._stop.Token);
        return rig;
    }

    /// <summary>Sends requests to <c>/page</c> from <paramref name="clients"/> concurrent loops until the token is cancelled, the time limit, or the rig's end.</summary>
    public async Task LoadAsync(int clients, TimeSpan limit, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        await new HttpLoad(new Uri($"http://127.0.0.1:{FrontendPort}/page")) { Clients = clients, Duration = limit, Counts = _answers }.RunAsync(either.Token);
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
