using System.Net;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// A real HAProxy whose backend <c>app</c> has s1 (always up) and s2 (declared disabled), both real app processes
/// started through the exec provider's scripts (<see cref="ScriptedApps"/>), optionally a pool of runtime-added
/// servers; an autoscaler with a band policy (up above 100 ms, down below 30 ms) and short intervals; a bounded load
/// generator on <c>/slow</c> (200 ms answers: scale up) or <c>/fast</c> (scale down).
/// </summary>
internal sealed class ProviderRig : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ListLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private CancellationTokenSource _stop = new();
    private Task _running = Task.CompletedTask;
    private ILogSource? _source;
    private readonly HttpAnswerCounts _answers = new();

    private ProviderRig() => _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));

    public ScriptedApps Apps { get; } = new();

    public Haproxy Haproxy { get; private set; } = null!;

    public IHaproxyControl Control { get; private set; } = null!;

    public Autoscaler Autoscaler { get; private set; } = null!;

    public AutoscaleOptions Options { get; } = new()
    {
        EvaluationInterval = TimeSpan.FromMilliseconds(200),
        ReconcileInterval = TimeSpan.FromMilliseconds(500),
        CounterInterval = TimeSpan.FromMilliseconds(500),
    };

    public BackendOptions Backend => Options.Backends[0];

    public int FrontendPort { get; } = Ports.FreeTcp();

    public int S2Port { get; } = Ports.FreeTcp();

    public int LogPort { get; } = Ports.FreeUdp();

    public string Socket => _dir.File("admin.sock");

    public IReadOnlyCollection<(LogLevel Level, int EventId, string Message)> Logs => _logs.Entries;

    public long Succeeded => _answers.Succeeded;

    public long Failed => _answers.Failed;

    /// <summary>HAProxy and the apps' set-up; the autoscaler is started by <see cref="StartAutoscaler"/> (or run as the CLI with <see cref="WriteConfig"/>).</summary>
    public static async Task<ProviderRig> StartAsync(TimeSpan keepWarm, int pool = 0, TimeSpan? providerTimeout = null)
    {
        var rig = new ProviderRig();
        rig.Apps.SetPort("s2", rig.S2Port);
        rig.Options.Warmup.FailureBackoff = TimeSpan.FromSeconds(30);
        rig.Options.Warmup.Attempts = 3;
        rig.Options.Warmup.RetryDelay = TimeSpan.FromMilliseconds(200);
        var backend = new BackendOptions { Name = "app", SettleTime = TimeSpan.FromMilliseconds(500), Policy = { Kind = "band" } };
        backend.Window.Kind = "count";
        backend.Window.Size = 8;
        foreach ((string key, string value) in new[]
        {
            ("upperMs", "100"), ("lowerMs", "30"), ("breaches", "2"), ("scaleUpCooldown", "500ms"), ("scaleDownCooldown", "1s"),
            ("stabilization", "1s"), ("maxStepUp", "1"), ("maxStepDown", "1"), ("idleScaleDown", "1h"),
        })
        {
            backend.Policy.Settings[key] = value;
        }

        backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(5);
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        backend.Servers.Add(new ServerOptions { Name = "s2", WarmupUrl = new Uri($"http://127.0.0.1:{rig.S2Port}/warmup") });
        backend.Provider = rig.Apps.Provider(keepWarm, providerTimeout);
        if (pool > 0)
        {
            backend.Pool = new ServerPoolOptions { Prefix = "auto", Max = pool, ServerOptions = "check inter 500ms weight 10", WarmupPath = "/warmup" };
        }

        rig.Options.Backends.Add(backend);
        rig.Options.Logs.Source = $"udp@127.0.0.1:{rig.LogPort}";

        // s1 is always up: started here, by the same script, so that it is counted and killed with the others.
        string s1 = (await new ServerProviderRegistry().TryCreate(new ServerProviderSettings("app", backend.Provider, "provider"), new List<string>())!
            .StartAsync(new ServerProviderTarget("app", "s1"), CancellationToken.None)).Address!;

        var servers = new HaproxyBackend("app")
        {
            Lines = { "retries 0" },
            Servers = { new("s1", s1) { Weight = 10 }, new("s2", rig.S2Port) { Weight = 10, Disabled = true } },
        };
        rig.Haproxy = await Haproxy.StartAsync(HaproxyConfig.ForApps(rig.Socket, rig.FrontendPort, servers, HaproxyLogTarget.Udp(rig.LogPort)), rig._dir);
        await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
        rig.Options.Haproxy.Endpoints.Add(rig.Socket);
        rig.Control = HaproxyControl.Create(rig.Socket);
        return rig;
    }

    /// <summary>Starts the autoscaler in this process.</summary>
    public void StartAutoscaler()
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                _source = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, LogPort), AutoscalerBuilder.DatagramOptions(Options));
                break;
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 50)
            {
                // A disposed datagram source's receive thread holds the port until a datagram wakes it.
                using var wake = new System.Net.Sockets.UdpClient();
                wake.Send([0], 1, new IPEndPoint(IPAddress.Loopback, LogPort));
                Thread.Sleep(100);
            }
        }

        Autoscaler = new AutoscalerBuilder(Options).UseLogSource(_source).UseLoggerFactory(_loggerFactory).Build();
        _running = Autoscaler.RunAsync(_stop.Token);
    }

    /// <summary>The configuration as a JSON file, for the CLI.</summary>
    public string WriteConfig()
    {
        ServerProviderOptions provider = Backend.Provider!;
        string Json(IList<string> list) => System.Text.Json.JsonSerializer.Serialize(list);
        string path = _dir.File("autoscale.json");
        File.WriteAllText(path, $$"""
            {
              "haproxy": { "endpoints": ["{{Socket}}"] },
              "logs": { "source": "udp@127.0.0.1:{{LogPort}}" },
              "evaluationInterval": "200ms", "reconcileInterval": "500ms", "counterInterval": "500ms",
              "warmup": { "attempts": 3, "retryDelay": "200ms", "failureBackoff": "30s" },
              "backends": {
                "app": {
                  "window": { "kind": "count", "size": 8 },
                  "policy": { "kind": "band", {{string.Join(", ", Backend.Policy.Settings.Select(p => $"\"{p.Key}\": \"{p.Value}\""))}} },
                  "scaleDown": { "drainTimeout": "5s" },
                  "settleTime": "500ms",
                  "servers": { "s1": { "alwaysUp": true }, "s2": { "warmupUrl": "http://127.0.0.1:{{S2Port}}/warmup" } },
                  "provider": { "kind": "exec", "keepWarm": "{{(int)provider.KeepWarm.TotalMilliseconds}}ms", "timeout": "20s",
                    "start": {{Json(provider.Lists["start"])}}, "stop": {{Json(provider.Lists["stop"])}}, "status": {{Json(provider.Lists["status"])}} }
                }
              }
            }
            """);
        return path;
    }

    /// <summary>Requests to <paramref name="path"/> from <paramref name="clients"/> loops until cancelled or the limit.</summary>
    public Task LoadAsync(string path, int clients, TimeSpan limit, CancellationToken cancellationToken) =>
        new HttpLoad(new Uri($"http://127.0.0.1:{FrontendPort}{path}")) { Clients = clients, Duration = limit, Counts = _answers }.RunAsync(cancellationToken);

    /// <summary>The lifecycle state the autoscaler reports for <paramref name="server"/>.</summary>
    public ServerLifecycleState LifecycleOf(string server) =>
        Autoscaler.Snapshot().Single().Servers.Single(s => s.Name == server).Lifecycle;

    public async Task<IReadOnlyList<ServerStat>> StatsAsync() => [.. (await Control.ShowStatAsync()).Where(r => r.Backend == "app")];

    public async Task<string?> StatusOfAsync(string server) => (await StatsAsync()).SingleOrDefault(r => r.Server == server)?.Status;

    public Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 30) => Poll.UntilAsync(condition, TimeSpan.FromSeconds(seconds), what);

    public Task WaitAsync(Func<bool> condition, string what, int seconds = 30) => Poll.UntilAsync(condition, TimeSpan.FromSeconds(seconds), what);

    /// <summary>Stops HAProxy and starts it again (a new process: runtime state and runtime-added servers are gone).</summary>
    public async Task RestartHaproxyAsync()
    {
        await Haproxy.StopAsync();
        await Haproxy.RestartAsync();
        await Haproxy.WaitForPortAsync(FrontendPort);
    }

    /// <summary>Stops the in-process autoscaler (what it started keeps running, as after a crash).</summary>
    public async Task StopAutoscalerAsync()
    {
        if (Autoscaler is null)
        {
            return;
        }

        await _stop.CancelAsync();
        await _running;
        await Autoscaler.DisposeAsync();
        if (_source is not null)
        {
            await _source.DisposeAsync();
            _source = null;
        }

        _stop.Dispose();
        _stop = new CancellationTokenSource();
        Autoscaler = null!;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAutoscalerAsync();

        await Control.DisposeAsync();
        await Haproxy.DisposeAsync();
        Apps.Dispose();
        _loggerFactory.Dispose();
        _dir.Dispose();
        _stop.Dispose();
    }
}
