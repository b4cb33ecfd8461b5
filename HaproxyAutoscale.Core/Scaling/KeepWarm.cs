using System.Collections.Concurrent;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Keep-warm for backends with a provider: a parked server keeps running for <c>keepWarm</c>, then it is stopped (a
/// pool server deleted from HAProxy first); at start-up, what already runs is adopted as kept warm. The capacity
/// side of scale-down: draining is the <see cref="Actuator"/>'s.
/// </summary>
internal sealed partial class KeepWarm(ProviderCalls provider, ActionServices services)
{
    /// <summary>
    /// The provider calls keep-warm makes at once, of each kind: a start's status questions, and the stops after
    /// <c>keepWarm</c>. A fleet of 10,000 backends has 70,000 parked servers: a process each, all at once, would be a
    /// fork storm (and a stop after a start whose status was unknown is due for all of them at the same moment).
    /// </summary>
    public const int CallsAtOnce = 16;

    private readonly ActionServices _services = services;
    private readonly ProviderCalls _provider = provider;
    private readonly ConcurrentQueue<(ScaledBackend Backend, string Server, TimeSpan KeptWarm)> _due = new(); // stops waiting for a turn
    private int _stoppers; // tasks draining _due, at most CallsAtOnce
    private readonly LineBudget _stopLines = new(services.Time);

    /// <summary>
    /// Stops the backend's parked servers that were kept warm for <c>keepWarm</c> (pool servers are deleted from HAProxy
    /// first). Call on every evaluation, outside the backend's lock; not while the backend is paused.
    /// </summary>
    public void StopIdle(ScaledBackend backend, CancellationToken cancellationToken)
    {
        if (backend.Provider is not null && backend.Options.Provider is { } options)
        {
            StopDue(backend, options, cancellationToken); // apart: its closure would be made for every backend at every evaluation
        }
    }

    /// <summary>Once per evaluation pass: after a burst of stops, one line for those logged at debug level.</summary>
    public void SummarizeStops()
    {
        if (_stopLines.TakeQuiet() is { } quiet)
        {
            Log.StoppedMany(_services.Logger, quiet.Count, quiet.Since, LineBudget.PerMinute);
        }
    }

    private void StopDue(ScaledBackend backend, ServerProviderOptions options, CancellationToken cancellationToken)
    {
        List<(string Server, TimeSpan KeptWarm)>? due = null; // made only when a server is due: this runs for every backend at every pass
        lock (backend.Gate)
        {
            if (backend.PausedUntil is not null)
            {
                return;
            }

            DateTimeOffset now = _services.Time.GetUtcNow();
            ServerTable servers = backend.Servers;
            IList<ServerOptions> configured = backend.Options.Servers;
            for (int i = 0; i < configured.Count; i++) // indexed: no enumerator
            {
                string server = configured[i].Name;
                if (servers.StateOf(server) == ServerLifecycleState.Parked && now - servers.StateSince(server) >= options.KeepWarm && servers.IsAvailable(server, now))
                {
                    (due ??= []).Add((server, now - servers.StateSince(server)));
                    servers.Set(server, ServerLifecycleState.Stopping); // out of the candidates until stopped
                }
            }
        }

        if (due is null)
        {
            return;
        }

        foreach ((string server, TimeSpan keptWarm) in due)
        {
            _due.Enqueue((backend, server, keptWarm));
        }

        StartStoppers(cancellationToken);
    }

    // Queued, not a task each: after a fleet's restart 70,000 stops can be due at once.
    private void StartStoppers(CancellationToken cancellationToken)
    {
        while (!_due.IsEmpty && Volatile.Read(ref _stoppers) is int running && running < CallsAtOnce)
        {
            if (Interlocked.CompareExchange(ref _stoppers, running + 1, running) == running)
            {
                _services.Track(StopQueuedAsync(cancellationToken));
            }
        }
    }

    private async Task StopQueuedAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            // At shutdown the rest stay queued (stopping): the run is over, nothing acts on them.
            while (!cancellationToken.IsCancellationRequested && _due.TryDequeue(out (ScaledBackend Backend, string Server, TimeSpan KeptWarm) next))
            {
                await StopAsync(next.Backend, next.Server, next.KeptWarm, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _stoppers);
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            StartStoppers(cancellationToken); // one queued between the last dequeue and the decrement
        }
    }

    // Kept warm long enough: delete it from HAProxy (a pool server), then stop it.
    private async Task StopAsync(ScaledBackend backend, string server, TimeSpan keptWarm, CancellationToken cancellationToken)
    {
        long started = _services.Time.GetTimestamp();
        string step = "del server";
        try
        {
            bool inHaproxy;
            lock (backend.Gate)
            {
                inHaproxy = PoolSlots.IsSlot(backend.Options, server) && backend.Servers.AddressOf(server) is not null;
            }

            if (inHaproxy)
            {
                await _provider.DeleteServerAsync(backend, server, cancellationToken).ConfigureAwait(false);
                lock (backend.Gate)
                {
                    backend.Servers.SetAddress(server, null); // out of HAProxy: nothing to add again after a reload
                }
            }

            step = "stop";
            await _provider.WithDeadlineAsync(backend, server, "stop", async (p, t) =>
            {
                await p.StopAsync(new ServerProviderTarget(backend.Name, server), t).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            lock (backend.Gate)
            {
                backend.Servers.Set(server, ServerLifecycleState.Stopped);
                backend.Servers.SetAddress(server, null);
                backend.Servers.Succeeded(server);
            }

            Log.ServerStopped(_services.Logger, _stopLines.Next(), backend.Name, server, backend.Options.Provider!.Kind, (long)_services.Time.GetElapsedTime(started).TotalMilliseconds,
                keptWarm > TimeSpan.FromDays(1) ? "its state was unknown" : $"parked and kept warm for {Durations.Format(keptWarm)}");
            _services.Metrics.Actions.Add(1, AutoscaleMetrics.Tags(backend.Name, "stop"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string error = e is OperationCanceledException && cancellationToken.IsCancellationRequested ? "stopped before it completed" : ProviderCalls.Describe(e);
            TimeSpan backoff;
            lock (backend.Gate)
            {
                // Still parked and maybe running: stopped again once the back-off is over.
                backoff = backend.Servers.Failed(server, ServerLifecycleState.Parked, _services.FailureBackoff);
                backend.Servers.StopDue(server);
            }

            Log.ActionFailed(_services.Logger, backend.Name, server, step == "stop" ? "stop" : "stop (del server)", (long)_services.Time.GetElapsedTime(started).TotalMilliseconds, error, Durations.Format(backoff));
            _services.Metrics.ActionFailures.Add(1, AutoscaleMetrics.Tags(backend.Name, "stop"));
        }
    }
}
