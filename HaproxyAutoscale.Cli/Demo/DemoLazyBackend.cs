using System.Diagnostics;
using System.Globalization;
using System.Net;
using HaproxyAutoscale.Cli.Commands;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary>
/// The demo's second backend, <c>lazy</c>: scale to zero. One lazily started app (<c>z1</c>) behind the shipped Lua
/// hold (<c>http-request lua.autoscale-hold if { nbsrv eq 0 }</c>: HAProxy enters Lua only while no server is usable),
/// <c>minActive</c> 0: it sleeps at zero, a burst of concurrent requests is held by HAProxy while the wake line gets the
/// app started and warmed up, then every held request goes on to it; after the idle period it goes back to zero and
/// the app is stopped. Reached through the demo's frontend under <c>/lazy</c>.
/// </summary>
internal sealed class DemoLazyBackend(int port)
{
    /// <summary>The backend's name.</summary>
    public const string Name = "lazy";

    /// <summary>Its one server.</summary>
    public const string Server = "z1";

    /// <summary>Requests in the burst that wakes it.</summary>
    public const int Burst = 20;

    private readonly List<(int Status, TimeSpan After)> _answers = [];
    private TimeSpan? _burstAt;
    private TimeSpan? _backAtZeroAt;
    private bool _woken;

    /// <summary>The app's port.</summary>
    public int Port { get; } = port;

    /// <summary>Adds the Lua script (the binary's own), the backend and the frontend's route to <paramref name="config"/>.</summary>
    public async Task AddToAsync(HaproxyConfig config, TempDirectory dir, CancellationToken cancellationToken)
    {
        string script = dir.File("haproxy-autoscale.lua");
        await File.WriteAllTextAsync(script, await LuaCommand.ReadScriptAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        config.Global.Add($"lua-load {script}");
        config.Frontends[0].Lines.Add($"use_backend {Name} if {{ path_beg /{Name} }}");
        config.Backends.Add(new HaproxyBackend(Name)
        {
            Lines = ["http-request lua.autoscale-hold if { nbsrv eq 0 }"],
            Servers = [new HaproxyServer(Server, Port) { Weight = 10, Disabled = true }],
        });
    }

    /// <summary>
    /// The backend's autoscaler configuration: minActive 0, the app backend's policy but idle after
    /// <paramref name="idle"/>, started by <paramref name="provider"/> like the app's servers.
    /// </summary>
    /// <remarks>
    /// The idle period counts from the moment the woken app takes the held requests (HAProxy logs them only once they
    /// are answered), then from their log lines.
    /// </remarks>
    public static BackendOptions Options(BackendOptions app, ServerProviderOptions provider, int port, TimeSpan idle)
    {
        // A small window and no settle time: the step to zero waits for the window to refill with samples taken since
        // the start, and a burst of 20 onto a server that just came up is all this backend gets.
        var backend = new BackendOptions { Name = Name, MinActive = 0, Policy = { Kind = app.Policy.Kind }, SettleTime = TimeSpan.Zero, Provider = provider };
        backend.Window.Size = 5;
        foreach ((string key, string value) in app.Policy.Settings)
        {
            backend.Policy.Settings[key] = value;
        }

        backend.Policy.Settings["idleScaleDown"] = Durations.Format(idle);

        backend.ScaleDown.DrainTimeout = app.ScaleDown.DrainTimeout;
        backend.Servers.Add(new ServerOptions { Name = Server, WarmupUrl = new Uri($"http://127.0.0.1:{port}/warmup") });
        return backend;
    }

    /// <summary>Sends the burst: <see cref="Burst"/> concurrent requests at once, each answer's status and time kept.</summary>
    public async Task BurstAsync(Uri frontend, TimeSpan now, CancellationToken cancellationToken)
    {
        _burstAt = now;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Burst, UseProxy = false };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) }; // past the hold's 30 s deadline
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Burst).Select(async i =>
        {
            int status;
            try
            {
                using HttpResponseMessage response = await client.GetAsync(new Uri(frontend, $"/{Name}/{i}"), cancellationToken).ConfigureAwait(false);
                status = (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                status = 0;
            }

            lock (_answers)
            {
                _answers.Add((status, clock.Elapsed));
            }
        })).ConfigureAwait(false);
    }

    /// <summary>The backend's part of the live line: zero, waking, or its server's lifecycle.</summary>
    public string Live(BackendSnapshot lazy, TimeSpan now)
    {
        _woken |= lazy.Waking is not null || !lazy.AtZero;
        if (_woken && lazy.AtZero && _backAtZeroAt is null)
        {
            _backAtZeroAt = now;
        }

        string state = lazy.Waking is { } waking ? $"waking ({waking.Held} held)"
            : lazy.AtZero ? "zero"
            : string.Join(" ", lazy.Servers.Select(s => $"{s.Name}:{Admin.AdminJson.Lifecycle(s.Lifecycle)}"));
        return $"{Name}: {state}";
    }

    /// <summary>The summary's lines; <paramref name="ended"/> are the app processes that ended, <paramref name="speed"/> the demo clock's.</summary>
    public IEnumerable<string> Summary(IEnumerable<EndedApp> ended, double speed)
    {
        List<(int Status, TimeSpan After)> answers;
        lock (_answers)
        {
            answers = [.. _answers.OrderBy(a => a.After)];
        }

        if (_burstAt is not { } at)
        {
            yield return $"Scale to zero ({Name}): no burst was sent.";
            yield break;
        }

        int ok = answers.Count(a => a.Status == (int)HttpStatusCode.OK);
        string first = answers.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{answers[0].After.TotalMilliseconds:0} ms");
        string last = answers.Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{answers[^1].After.TotalMilliseconds:0} ms");
        yield return string.Create(CultureInfo.InvariantCulture,
            $"Scale to zero ({Name}): a burst of {Burst} requests at +{at.TotalSeconds:0.0}s found it at zero and was held by HAProxy: {ok} answered 200, {answers.Count - ok} failed; first answer after {first}, last after {last} (real time: the app's start and its 1 s cold start).");
        string processes = string.Join(", ", ended.Where(a => a.Server == Server).Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Server} pid {a.Pid} ran {a.Lifetime.TotalSeconds * speed:0.0}s")));
        yield return _backAtZeroAt is { } back
            ? string.Create(CultureInfo.InvariantCulture, $"Scale to zero ({Name}): back at zero at +{back.TotalSeconds:0.0}s; its app process: {(processes.Length == 0 ? "none" : processes)}.")
            : $"Scale to zero ({Name}): not back at zero by the end; its app process: {(processes.Length == 0 ? "none" : processes)}.";
    }
}
