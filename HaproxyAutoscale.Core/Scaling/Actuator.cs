using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Providers;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Carries plans out: (start through the provider, see <see cref="ServerStarts"/>,) warm-up, then weight and ready
/// (up); drain, wait for sessions, maintenance (down), all through typed <see cref="IHaproxyControl"/> commands. It owns the servers' lifecycle: a claimed server is
/// <see cref="ServerLifecycleState.Starting"/>, <see cref="ServerLifecycleState.Warming"/> or <see cref="ServerLifecycleState.Draining"/> until its action ends, then active or
/// parked on success, or back where it was with a back-off on failure. Each action runs on its own task and never
/// faults: whatever an extension throws is caught, logged with backend and server, and counted.
/// </summary>
internal sealed class Actuator
{
    private static readonly TimeSpan SessionPollInterval = TimeSpan.FromMilliseconds(500);

    private readonly IHaproxyControl _control;
    private readonly IReadOnlyList<IHaproxyControl> _instances;
    private readonly IWarmup _warmup;
    private readonly ServerStarts _starts;
    private readonly ActionServices _services;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AutoscaleMetrics _metrics;

    public Actuator(IHaproxyControl control, IReadOnlyList<IHaproxyControl> instances, IWarmup warmup, ServerStarts starts, ActionServices services)
    {
        _control = control;
        _instances = instances;
        _warmup = warmup;
        _starts = starts;
        _services = services;
        _time = services.Time;
        _logger = services.Logger;
        _metrics = services.Metrics;
    }

    /// <summary>Marks the plan's servers as warming (up) or draining (down). Call under the backend's lock, with the decision.</summary>
    public static void Claim(ScaledBackend backend, ScalingPlan plan)
    {
        foreach (string server in plan.Servers)
        {
            // From now on the server counts as capacity (up) or is out of the candidates (down). A stopped one is
            // started first.
            bool up = plan.Decision.Action == ScalingAction.Up;
            bool stopped = backend.Servers.StateOf(server) == ServerLifecycleState.Stopped;
            backend.Servers.Set(server, !up ? ServerLifecycleState.Draining : stopped ? ServerLifecycleState.Starting : ServerLifecycleState.Warming);
        }
    }

    /// <summary>Starts one action per claimed server of the plan.</summary>
    public void Start(ScaledBackend backend, ScalingPlan plan, CancellationToken cancellationToken)
    {
        foreach (string server in plan.Servers)
        {
            _services.Track(ActAsync(backend, server, plan, cancellationToken));
        }
    }

    private async Task ActAsync(ScaledBackend backend, string server, ScalingPlan plan, CancellationToken cancellationToken)
    {
        await Task.Yield(); // never run an action on the evaluation loop's thread
        bool up = plan.Decision.Action == ScalingAction.Up;
        string action = up ? "up" : "down";
        long started = _time.GetTimestamp();
        string? failure;
        var progress = new StartProgress();
        try
        {
            failure = up ? await EnableAsync(backend, server, progress, cancellationToken).ConfigureAwait(false) : await DisableAsync(backend.Options, server, cancellationToken).ConfigureAwait(false);
        }
        catch (ServerProviderException e)
        {
            failure = e.Message;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            failure = "stopped before it completed";
        }
        catch (HaproxyControlException e)
        {
            failure = e.Message;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A custom IHaproxyControl broke its contract (only HaproxyControlException is expected): contain it
            // like a failed command.
            failure = _services.Contained(backend.Name, server, "control", e);
        }

        long elapsedMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
        if (failure is null)
        {
            lock (backend.Gate)
            {
                backend.Servers.Set(server, up ? ServerLifecycleState.Active : ServerLifecycleState.Parked);
                backend.Servers.Succeeded(server);
                if (up)
                {
                    backend.Decider.Forecast?.NoteReady(_time.GetUtcNow() - plan.Time); // the forecast's lead time
                }
            }

            Log.ActionCompleted(_logger, backend.Name, server, action, elapsedMs, plan.Decision.Reason, Log.Value(plan.Window));
            _metrics.Actions.Add(1, AutoscaleMetrics.Tags(backend.Name, action));
            if (up)
            {
                _metrics.ScaleUpLag.Record(Math.Max(0, (_time.GetUtcNow() - plan.Time).TotalSeconds), AutoscaleMetrics.BackendTag(backend.Name));
                Wakes.UpEnded(backend, server, null, _services);
            }

            return;
        }

        // Nothing started is left unaccounted for: what this action started or added is removed and stopped again.
        ServerLifecycleState? afterFailure = up ? await _starts.UndoStartAsync(backend, server, progress).ConfigureAwait(false) : null;
        TimeSpan backoff;
        lock (backend.Gate)
        {
            // A failed scale-up leaves the server parked, a failed scale-down leaves it active: as it was.
            backoff = backend.Servers.Failed(server, up ? ServerLifecycleState.Parked : ServerLifecycleState.Active, _services.FailureBackoff);
            if (afterFailure is { } lifecycle)
            {
                backend.Servers.Set(server, lifecycle);
                if (lifecycle == ServerLifecycleState.Parked && progress.StartAttempted)
                {
                    backend.Servers.StopDue(server); // its stop failed: tried again once the back-off is over
                }
            }
        }

        Log.ActionFailed(_logger, backend.Name, server, action, elapsedMs, failure, Durations.Format(backoff));
        _metrics.ActionFailures.Add(1, AutoscaleMetrics.Tags(backend.Name, action));
        if (up)
        {
            Wakes.UpEnded(backend, server, failure, _services);
        }
    }

    // (Start, add,) warm-up, then weight and ready; returns why it failed, or null.
    private async Task<string?> EnableAsync(ScaledBackend scaled, string server, StartProgress progress, CancellationToken cancellationToken)
    {
        BackendOptions backend = scaled.Options;
        ServerOptions options = backend.Servers.First(s => s.Name == server);
        string? address = await _starts.StartIfStoppedAsync(scaled, server, progress, cancellationToken).ConfigureAwait(false);
        if ((options.WarmupUrl ?? ServerStarts.PoolWarmupUrl(backend, server, address)) is { } url)
        {
            WarmupResult warmup;
            try
            {
                warmup = await _warmup.WarmUpAsync(url, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // A custom IWarmup should report failures in its result; a throw means the same: not warm.
                return $"warm-up: {_services.Contained(backend.Name, server, "warmup", e)}";
            }

            if (!warmup.Succeeded)
            {
                Log.WarmupFailed(_logger, backend.Name, server, url, warmup.Reason);
                return $"warm-up: {warmup.Reason}";
            }
        }

        if (progress.Started)
        {
            // Started and (with a warm-up) warm: the provider's share of the scale-up lag.
            _metrics.StartToReady.Record(_time.GetElapsedTime(progress.StartedAt).TotalSeconds, AutoscaleMetrics.BackendTag(backend.Name));
        }

        await _starts.AddIfStartedAsync(scaled, server, address, progress, cancellationToken).ConfigureAwait(false);
        await ServerCommands.EnableAsync(_control, backend.Name, options, cancellationToken).ConfigureAwait(false);
        return null;
    }

    // Drain, wait for no session, maintenance (or weight 0 + disable); failures throw.
    private async Task<string?> DisableAsync(BackendOptions backend, string server, CancellationToken cancellationToken)
    {
        if (backend.ScaleDown.Mode == ScaleDownMode.Immediate)
        {
            await _control.SetWeightAsync(backend.Name, server, 0, cancellationToken).ConfigureAwait(false);
            await _control.DisableServerAsync(backend.Name, server, cancellationToken).ConfigureAwait(false);
            return null;
        }

        await _control.SetServerStateAsync(backend.Name, server, ServerAdminState.Drain, cancellationToken).ConfigureAwait(false);
        DateTimeOffset deadline = _time.GetUtcNow() + backend.ScaleDown.DrainTimeout;
        await WaitForNoSessionsAsync(backend.Name, server, deadline, cancellationToken).ConfigureAwait(false);

        // An instance that cannot be reached now (HAProxy restarting) gets the command when it is back, until the
        // drain's deadline: a restarted HAProxy lost the drain, and the server must not come back into service.
        while (true)
        {
            try
            {
                await _control.SetServerStateAsync(backend.Name, server, ServerAdminState.Maint, cancellationToken).ConfigureAwait(false);
                return null;
            }
            catch (HaproxyControlException e) when (IsUnreachable(e) && _time.GetUtcNow() < deadline)
            {
                await Task.Delay(SessionPollInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static bool IsUnreachable(HaproxyControlException e) => e.Kind is HaproxyErrorKind.ConnectionFailed or HaproxyErrorKind.Timeout;

    // Polls HAProxy's current sessions on the server (on every instance) until none is left or the deadline. An
    // instance that cannot be reached is not known to be empty: it is waited for (once restarted it has none).
    private async Task WaitForNoSessionsAsync(string backend, string server, DateTimeOffset deadline, CancellationToken cancellationToken)
    {
        bool told = false;
        while (_time.GetUtcNow() < deadline)
        {
            bool empty = true;
            int sessions = 0;
            foreach (IHaproxyControl instance in _instances)
            {
                try
                {
                    // The backend's rows only: every draining server asks twice a second.
                    sessions += (await instance.ShowStatForBackendAsync(backend, cancellationToken).ConfigureAwait(false))
                        .Where(r => r.Server == server).Sum(r => r.CurrentSessions);
                }
                catch (HaproxyControlException e) when (IsUnreachable(e))
                {
                    empty = false;
                }
                catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownBackend)
                {
                    // An instance without the backend has no sessions on it.
                }
            }

            if (empty && sessions == 0)
            {
                return;
            }

            if (!told && sessions > 0)
            {
                // Long-lived connections (WebSockets, event streams) keep a draining server busy: say what it waits for.
                Log.DrainWaiting(_logger, backend, server, sessions, deadline);
                told = true;
            }

            await Task.Delay(SessionPollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>The command sequences that put a server into service or park it, shared by actions and reconcile.</summary>
internal static class ServerCommands
{
    /// <summary>
    /// Weight first, so the server takes traffic at the weight it is meant to have: the configured <c>weight</c>, or
    /// else 100 % of the weight haproxy.cfg gave it (<c>srv_iweight</c>), so enabled servers keep the shares the
    /// operator declared. Then <c>state ready</c>.
    /// </summary>
    public static async Task EnableAsync(IHaproxyControl control, string backend, ServerOptions server, CancellationToken cancellationToken)
    {
        await (server.Weight is { } weight
            ? control.SetWeightAsync(backend, server.Name, weight, cancellationToken)
            : control.SetWeightPercentAsync(backend, server.Name, 100, cancellationToken)).ConfigureAwait(false);
        await control.SetServerStateAsync(backend, server.Name, ServerAdminState.Ready, cancellationToken).ConfigureAwait(false);
    }
}
