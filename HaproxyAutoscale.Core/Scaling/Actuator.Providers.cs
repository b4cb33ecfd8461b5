using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.Scaling;

// The actuator's steps for backends with a provider: start before the warm-up, add pool servers to HAProxy, stop
// what was kept warm past keepWarm, undo a start that failed half-way, and adopt what already runs at start-up.
internal sealed partial class Actuator
{
    /// <summary>
    /// Stops the backend's parked servers that were kept warm for <c>keepWarm</c> (pool servers are deleted from HAProxy
    /// first). Call on every evaluation, outside the backend's lock; not while the backend is paused.
    /// </summary>
    public void StopIdle(ScaledBackend backend, CancellationToken cancellationToken)
    {
        if (backend.Provider is null || backend.Options.Provider is not { } options)
        {
            return;
        }

        List<(string Server, TimeSpan KeptWarm)> due;
        lock (backend.Gate)
        {
            if (backend.PausedUntil is not null)
            {
                return;
            }

            DateTimeOffset now = _time.GetUtcNow();
            ServerTable servers = backend.Servers;
            due = [.. backend.Options.Servers.Select(s => s.Name).Where(s =>
                servers.RoleOf(s) == ServerRole.Parked && servers.LifecycleOf(s) == ServerLifecycleState.Parked
                && now - servers.LifecycleSince(s) >= options.KeepWarm && servers.IsAvailable(s, now)).Select(s => (s, now - servers.LifecycleSince(s)))];
            foreach ((string server, _) in due)
            {
                servers.SetLifecycle(server, ServerLifecycleState.Stopping); // out of the candidates until stopped
            }
        }

        foreach ((string server, TimeSpan keptWarm) in due)
        {
            Track(StopAsync(backend, server, keptWarm, cancellationToken));
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
                    state = await WithDeadlineAsync(backend, server, (p, t) => p.GetStatusAsync(new ServerProviderTarget(backend.Name, server), t), cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
                {
                    Log.ProviderFailed(_logger, backend.Name, server, "status", Describe(e));
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

                    backend.Servers.SetLifecycle(server, lifecycle);
                    if (due)
                    {
                        backend.Servers.StopDue(server);
                    }
                }

                Log.ProcessAdopted(_logger, backend.Name, server, state.ToString().ToLowerInvariant(), Lower(lifecycle));
            }
        }
    }

    private void Track(Task action)
    {
        _inFlight.TryAdd(action, 0);
        _ = action.ContinueWith(t => _inFlight.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // Starts a stopped server (claimed as Starting); returns the address it listens on (null: a configured server
    // whose address is haproxy.cfg's).
    private async Task<string?> StartIfStoppedAsync(ScaledBackend backend, string server, UpProgress progress, CancellationToken cancellationToken)
    {
        bool slot = PoolSlots.IsSlot(backend.Options, server);
        lock (backend.Gate)
        {
            if (backend.Servers.LifecycleOf(server) != ServerLifecycleState.Starting)
            {
                return backend.Servers.AddressOf(server);
            }
        }

        if (backend.Provider is null)
        {
            throw new InvalidOperationException($"{backend.Name}/{server} is stopped but the backend has no provider");
        }

        long started = _time.GetTimestamp();
        progress.StartAttempted = true;
        ServerStartResult result = await WithDeadlineAsync(backend, server, (p, t) => p.StartAsync(new ServerProviderTarget(backend.Name, server), t), cancellationToken).ConfigureAwait(false);
        progress.Started = true;
        string? address = result?.Address;
        if (address is not null && !ServerAddress.TryParse(address, out _, out _))
        {
            throw new ServerProviderException(ServerProviderErrorKind.InvalidOutput, new ServerProviderTarget(backend.Name, server), "start", $"'{address}' is not ADDRESS:PORT");
        }

        if (slot && address is null)
        {
            throw new ServerProviderException(ServerProviderErrorKind.InvalidOutput, new ServerProviderTarget(backend.Name, server), "start",
                "a pool server's start must print the ADDRESS:PORT it listens on (last line of its output)");
        }

        lock (backend.Gate)
        {
            backend.Servers.SetLifecycle(server, ServerLifecycleState.Warming);
            if (slot)
            {
                backend.Servers.SetAddress(server, address);
            }
        }

        Log.ServerStarted(_logger, backend.Name, server, backend.Options.Provider!.Kind, (long)_time.GetElapsedTime(started).TotalMilliseconds, address ?? "from haproxy.cfg");
        return address;
    }

    private static Uri? PoolWarmupUrl(BackendOptions backend, string server, string? address) =>
        address is not null && PoolSlots.IsSlot(backend, server) && backend.Pool!.WarmupPath is { } path && ServerAddress.TryParse(address, out string host, out int port)
            ? new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}{path}"))
            : null;

    // A pool server just started goes into HAProxy (in maintenance) on every instance, its health checks on.
    private async Task AddIfStartedAsync(ScaledBackend backend, string server, string? address, UpProgress progress, CancellationToken cancellationToken)
    {
        if (!progress.Started || !PoolSlots.IsSlot(backend.Options, server) || address is null)
        {
            return;
        }

        progress.Added = true;
        await AddServerAsync(_instances, backend.Options, server, address, cancellationToken).ConfigureAwait(false);
        Log.ServerAdded(_logger, backend.Name, server, address, "started");
    }

    /// <summary><c>add server</c> (and <c>enable health</c> with <c>check</c>) on every instance; one that already has it is left as it is.</summary>
    internal static async Task AddServerAsync(IReadOnlyList<IHaproxyControl> instances, BackendOptions backend, string server, string address, CancellationToken cancellationToken)
    {
        ServerAddress.TryParse(address, out string host, out int port);
        string keywords = backend.Pool!.ServerOptions ?? "";
        bool check = keywords.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains("check", StringComparer.Ordinal);
        foreach (IHaproxyControl instance in instances)
        {
            try
            {
                await instance.AddServerAsync(backend.Name, server, host, port, keywords, cancellationToken).ConfigureAwait(false);
            }
            catch (HaproxyControlException e) when (e.Answer.StartsWith("Already exists", StringComparison.Ordinal))
            {
                // added before (a retried action, a second pass): the same slot
            }

            if (check)
            {
                await instance.EnableHealthAsync(backend.Name, server, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // After a failed scale-up that tried a start: delete what was added, stop what may run. Returns the lifecycle the
    // server is left in: stopped, or parked (may run; stopped again after the back-off) when the stop failed too.
    private async Task<ServerLifecycleState?> UndoStartAsync(ScaledBackend backend, string server, UpProgress progress)
    {
        if (!progress.StartAttempted)
        {
            return null;
        }

        try
        {
            if (progress.Added)
            {
                await DeleteServerAsync(backend, server, CancellationToken.None).ConfigureAwait(false);
            }

            lock (backend.Gate)
            {
                backend.Servers.SetAddress(server, null); // out of HAProxy: nothing to add again after a reload
            }

            await WithDeadlineAsync(backend, server, async (p, t) =>
            {
                await p.StopAsync(new ServerProviderTarget(backend.Name, server), t).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
            lock (backend.Gate)
            {
                backend.Servers.SetAddress(server, null);
            }

            Log.ServerStopped(_logger, backend.Name, server, backend.Options.Provider!.Kind, 0, "its scale-up failed");
            return ServerLifecycleState.Stopped;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.ProviderFailed(_logger, backend.Name, server, "stop after a failed scale-up", Describe(e));
            return ServerLifecycleState.Parked;
        }
    }

    // Kept warm long enough: delete it from HAProxy (a pool server), then stop it.
    private async Task StopAsync(ScaledBackend backend, string server, TimeSpan keptWarm, CancellationToken cancellationToken)
    {
        await Task.Yield();
        long started = _time.GetTimestamp();
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
                await DeleteServerAsync(backend, server, cancellationToken).ConfigureAwait(false);
                lock (backend.Gate)
                {
                    backend.Servers.SetAddress(server, null); // out of HAProxy: nothing to add again after a reload
                }
            }

            step = "stop";
            await WithDeadlineAsync(backend, server, async (p, t) =>
            {
                await p.StopAsync(new ServerProviderTarget(backend.Name, server), t).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
            lock (backend.Gate)
            {
                backend.Servers.SetLifecycle(server, ServerLifecycleState.Stopped);
                backend.Servers.SetAddress(server, null);
                backend.Servers.Succeeded(server);
            }

            Log.ServerStopped(_logger, backend.Name, server, backend.Options.Provider!.Kind, (long)_time.GetElapsedTime(started).TotalMilliseconds,
                keptWarm > TimeSpan.FromDays(1) ? "its state was unknown" : $"parked and kept warm for {Durations.Format(keptWarm)}");
            _metrics.Actions.Add(1, AutoscaleMetrics.Tags(backend.Name, "stop"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string error = e is OperationCanceledException && cancellationToken.IsCancellationRequested ? "stopped before it completed" : Describe(e);
            TimeSpan backoff;
            lock (backend.Gate)
            {
                // Still parked and maybe running: stopped again once the back-off is over.
                backoff = backend.Servers.Failed(server, ServerRole.Parked, _failureBackoff);
                backend.Servers.SetLifecycle(server, ServerLifecycleState.Parked);
                backend.Servers.StopDue(server);
            }

            Log.ActionFailed(_logger, backend.Name, server, step == "stop" ? "stop" : "stop (del server)", (long)_time.GetElapsedTime(started).TotalMilliseconds, error, Durations.Format(backoff));
            _metrics.ActionFailures.Add(1, AutoscaleMetrics.Tags(backend.Name, "stop"));
        }
    }

    // del server on every instance: needs maintenance and no connection; an instance that lacks it is fine.
    private async Task DeleteServerAsync(ScaledBackend backend, string server, CancellationToken cancellationToken)
    {
        foreach (IHaproxyControl instance in _instances)
        {
            try
            {
                await instance.SetServerStateAsync(backend.Name, server, ServerAdminState.Maint, cancellationToken).ConfigureAwait(false);
                await instance.DeleteServerAsync(backend.Name, server, cancellationToken).ConfigureAwait(false);
            }
            catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownServer)
            {
                // not (or no longer) in this instance
            }
        }

        Log.ServerDeleted(_logger, backend.Name, server);
    }

    // A provider call under the provider's deadline; a custom provider's other exceptions are contained as failures.
    private async Task<T> WithDeadlineAsync<T>(ScaledBackend backend, string server, Func<IServerProvider, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(backend.Options.Provider!.Timeout);
        try
        {
            return await call(backend.Provider!, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ServerProviderException(ServerProviderErrorKind.Timeout, new ServerProviderTarget(backend.Name, server), "provider call",
                $"no answer within {Durations.Format(backend.Options.Provider.Timeout)}");
        }
        catch (Exception e) when (e is not (ServerProviderException or HaproxyControlException or OperationCanceledException or OutOfMemoryException))
        {
            // A custom provider broke its contract (only ServerProviderException is expected): contain it as a failure.
            throw new ServerProviderException(ServerProviderErrorKind.Failed, new ServerProviderTarget(backend.Name, server), "provider call", Contained(backend.Name, server, "provider", e), e);
        }
    }

    private static string Describe(Exception e) => e is ServerProviderException or HaproxyControlException ? e.Message : $"{e.GetType().Name}: {e.Message}";

    private static string Lower(ServerLifecycleState state) => state.ToString().ToLowerInvariant();

    // What a scale-up did so far, for undoing it when a later step fails.
    private sealed class UpProgress
    {
        public bool StartAttempted { get; set; }

        public bool Started { get; set; }

        public bool Added { get; set; }
    }
}
