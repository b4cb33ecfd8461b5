using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Keep-warm for backends with a provider: a parked server keeps running for <c>keepWarm</c>, then it is stopped (a
/// pool server deleted from HAProxy first); at start-up, what already runs is adopted as kept warm. The capacity
/// side of scale-down: draining is the <see cref="Actuator"/>'s.
/// </summary>
internal sealed class KeepWarm(ProviderCalls provider, ActionServices services)
{
    private readonly ActionServices _services = services;
    private readonly ProviderCalls _provider = provider;

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
            _services.Track(StopAsync(backend, server, keptWarm, cancellationToken));
        }
    }

    /// <summary>
    /// At start-up, after HAProxy's state was adopted: asks each provider whether its parked servers run, so what runs
    /// is kept warm (and stopped after <c>keepWarm</c>) instead of started a second time, and what is stopped is known.
    /// </summary>
    public async Task AdoptProcessesAsync(IEnumerable<ScaledBackend> backends, CancellationToken cancellationToken)
    {
        foreach (ScaledBackend backend in backends)
        {
            if (backend.Provider is not { } provider)
            {
                continue;
            }

            List<(string Server, bool Slot, bool InHaproxy)> parked;
            lock (backend.Gate)
            {
                parked = [.. backend.Options.Servers.Select(s => s.Name)
                    .Where(s => backend.Servers.RoleOf(s) == ServerRole.Parked)
                    .Select(s => (s, PoolSlots.IsSlot(backend.Options, s), backend.Servers.AddressOf(s) is not null))];
            }

            foreach ((string server, bool slot, bool inHaproxy) in parked)
            {
                ServerRunState state;
                try
                {
                    state = await _provider.WithDeadlineAsync(backend, server, "status", (p, t) => p.GetStatusAsync(new ServerProviderTarget(backend.Name, server), t), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    Log.ProviderFailed(_services.Logger, backend.Name, server, "status", ProviderCalls.Describe(e));
                    state = ServerRunState.Unknown;
                }

                // Running or unknown: it may run, so it is parked warm and stopped after keepWarm (stop is idempotent).
                // Due for its stop at once: a pool server that runs outside HAProxy (its address is not known), or one
                // still in HAProxy whose process is stopped (it is deleted).
                ServerLifecycleState lifecycle = state == ServerRunState.Stopped && !(slot && inHaproxy) ? ServerLifecycleState.Stopped : ServerLifecycleState.Parked;
                bool due = lifecycle == ServerLifecycleState.Parked && slot && (state == ServerRunState.Stopped || !inHaproxy);
                lock (backend.Gate)
                {
                    if (backend.Servers.RoleOf(server) != ServerRole.Parked)
                    {
                        continue; // an action took it meanwhile
                    }

                    backend.Servers.Set(server, lifecycle);
                    if (due)
                    {
                        backend.Servers.StopDue(server);
                    }
                }

                Log.ProcessAdopted(_services.Logger, backend.Name, server, state.ToString().ToLowerInvariant(), ServerStates.Name(lifecycle));
            }
        }
    }

    // Kept warm long enough: delete it from HAProxy (a pool server), then stop it.
    private async Task StopAsync(ScaledBackend backend, string server, TimeSpan keptWarm, CancellationToken cancellationToken)
    {
        await Task.Yield();
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

            Log.ServerStopped(_services.Logger, backend.Name, server, backend.Options.Provider!.Kind, (long)_services.Time.GetElapsedTime(started).TotalMilliseconds,
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
