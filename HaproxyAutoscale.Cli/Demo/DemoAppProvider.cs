using System.Collections.Concurrent;
using System.Diagnostics;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary>
/// The demo's server provider: starting a server opens a new app instance on its port (a cold one: its first
/// request pays the app's start), stopping it closes the instance. It keeps the running time of every instance, for
/// the summary's app-seconds against keeping every app up. Registered as <c>demo</c>, the way an embedder plugs in its
/// own provider; a real deployment uses <c>exec</c> (systemctl, docker…).
/// </summary>
internal sealed class DemoAppProvider(Func<string, DemoAppServer> create) : IServerProvider, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (DemoAppServer App, long Started)> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<DemoAppServer> _all = new();
    private readonly Lock _gate = new();
    private TimeSpan _stoppedTime;

    public int Running => _running.Count;

    /// <summary>Every instance ever started, in start order (the ones still running too).</summary>
    public IEnumerable<DemoAppServer> Instances => _all;

    public int Starts => _all.Count;

    /// <summary>The time app instances ran, summed over instances (the running ones up to now).</summary>
    public TimeSpan RunningTime
    {
        get
        {
            lock (_gate)
            {
                return _stoppedTime + _running.Values.Aggregate(TimeSpan.Zero, (sum, r) => sum + Stopwatch.GetElapsedTime(r.Started));
            }
        }
    }

    /// <summary>Starts an instance at once, outside the autoscaler (the always-up server).</summary>
    public DemoAppServer Start(string server)
    {
        lock (_gate)
        {
            DemoAppServer app = create(server);
            _running[server] = (app, Stopwatch.GetTimestamp());
            _all.Enqueue(app);
            return app;
        }
    }

    public Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        if (!_running.ContainsKey(target.Server))
        {
            Start(target.Server);
        }

        return Task.FromResult(new ServerStartResult(null)); // the port haproxy.cfg names
    }

    public async Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        (DemoAppServer App, long Started) stopped;
        lock (_gate)
        {
            if (!_running.TryRemove(target.Server, out stopped))
            {
                return;
            }

            _stoppedTime += Stopwatch.GetElapsedTime(stopped.Started);
        }

        await stopped.App.DisposeAsync().ConfigureAwait(false);
    }

    public Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken) =>
        Task.FromResult(_running.ContainsKey(target.Server) ? ServerRunState.Running : ServerRunState.Stopped);

    public async ValueTask DisposeAsync()
    {
        foreach (string server in _running.Keys)
        {
            await StopAsync(new ServerProviderTarget("app", server), CancellationToken.None).ConfigureAwait(false);
        }
    }
}
