using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>A backend's state as the autoscaler sees it, for live views and health endpoints.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Window">Its window's value now.</param>
/// <param name="Servers">Each configured server and what the autoscaler believes it is.</param>
public sealed record BackendSnapshot(string Backend, WindowValue Window, IReadOnlyList<(string Server, ServerRole Role)> Servers);

/// <summary>
/// The autoscaler: log source → parser → per-backend window → policy → warm-up and Runtime API commands, each
/// backend independently. Log reading never waits for an action (actions run on their own tasks and take a
/// backend's lock only to update its state); the real state is read from HAProxy at start and every
/// <see cref="AutoscaleOptions.ReconcileInterval"/>, and re-applied when HAProxy lost it. Build it with
/// <see cref="Hosting.AutoscalerBuilder"/> or <c>services.AddHaproxyAutoscale(…)</c>.
/// </summary>
public sealed class Autoscaler : IAsyncDisposable
{
    private static readonly TimeSpan MaxFailureBackoff = TimeSpan.FromMinutes(10);

    private readonly AutoscaleOptions _options;
    private readonly ILogSource _source;
    private readonly IHaproxyControl _control;
    private readonly IWarmup _warmup;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _dryRun;
    private readonly Dictionary<string, BackendScaler> _scalers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _actions = new();
    private readonly Dictionary<string, HaproxyInfo> _instances = new(StringComparer.Ordinal);
    private readonly AutoscaleMetrics _metrics;
    private readonly List<IDisposable> _owned;
    private long _unparsed;
    private bool _adopted;

    internal Autoscaler(AutoscaleOptions options, ILogSource source, IHaproxyControl control, ScalingPolicyRegistry policies, IWarmup warmup,
        TimeProvider time, ILoggerFactory loggers, bool dryRun, IMeterFactory? meters, List<IDisposable> owned)
    {
        _options = options;
        _source = source;
        _control = control;
        _warmup = warmup;
        _time = time;
        _logger = loggers.CreateLogger("HaproxyAutoscale");
        _dryRun = dryRun;
        _owned = owned;
        var errors = new List<string>();
        foreach (BackendOptions backend in options.Backends)
        {
            var settings = new PolicySettings(backend.PolicyKind, backend.PolicySettings.ToDictionary(), $"backends.{backend.Name}.policy");
            if (policies.TryCreate(settings, errors) is { } policy)
            {
                _scalers[backend.Name] = new BackendScaler(backend, policy, time) { AdoptServersSeenInLogs = false };
            }
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors), nameof(options));
        }

        _metrics = new AutoscaleMetrics(LineMeasurements, WindowMeasurements, ActiveMeasurements, meters);
    }

    /// <summary>The log source's counters (lines, drops).</summary>
    public LogSourceCounters LogCounters => _source.Counters;

    /// <summary>Lines read that were not request logs.</summary>
    public long UnparsedLines => Interlocked.Read(ref _unparsed);

    /// <summary>Each backend's window and servers now.</summary>
    public IReadOnlyList<BackendSnapshot> Snapshot()
    {
        var snapshots = new List<BackendSnapshot>(_scalers.Count);
        foreach (BackendScaler scaler in _scalers.Values)
        {
            lock (scaler)
            {
                snapshots.Add(new BackendSnapshot(scaler.Options.Name, scaler.Window.Evaluate(), [.. scaler.Roles]));
            }
        }

        return snapshots;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled (or a finite log source ends), then waits for actions in flight.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Log.Started(_logger, _scalers.Count, _source.Address, _control.Endpoint, _dryRun ? " (dry run: no command that changes HAProxy is sent)" : "");
        await ReconcileAsync(cancellationToken).ConfigureAwait(false);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task reading = ReadLogsAsync(stop.Token);
        Task evaluating = EvaluateLoopAsync(stop.Token);
        Task reconciling = ReconcileLoopAsync(stop.Token);
        await Task.WhenAny(reading, evaluating, reconciling).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(reading, evaluating, reconciling).ConfigureAwait(false);
            await Task.WhenAll(_actions.Keys).ConfigureAwait(false);
        }
        finally
        {
            LogSourceCounters counters = _source.Counters;
            Log.Stopped(_logger, counters.Lines, UnparsedLines, counters.Dropped, counters.Oversized);
        }
    }

    /// <summary>Disposes what the builder created (sockets, HTTP client, meter).</summary>
    public async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync().ConfigureAwait(false);
        await _control.DisposeAsync().ConfigureAwait(false);
        _metrics.Dispose();
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }
    }

    private async Task ReadLogsAsync(CancellationToken cancellationToken)
    {
        var parser = new HaproxyLogParser();
        try
        {
            await _source.RunAsync(
                line =>
                {
                    if (!parser.TryParse(line, out RequestRecord record))
                    {
                        Interlocked.Increment(ref _unparsed);
                        return;
                    }

                    if (_scalers.TryGetValue(record.Backend, out BackendScaler? scaler))
                    {
                        lock (scaler)
                        {
                            scaler.OnRecord(record);
                        }
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            Log.SourceFailed(_logger, _source.Address, e.Message);
            throw;
        }
    }

    private async Task EvaluateLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.EvaluationInterval, _time, cancellationToken).ConfigureAwait(false);
                foreach (BackendScaler scaler in _scalers.Values)
                {
                    Evaluate(scaler, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Evaluate(BackendScaler scaler, CancellationToken cancellationToken)
    {
        ScalingPlan plan;
        lock (scaler)
        {
            plan = scaler.Evaluate();
            foreach (string server in plan.Servers)
            {
                // From now on the server counts as capacity (up) or is out of the candidates (down).
                scaler.SetRole(server, plan.Decision.Action == ScalingAction.Up ? ServerRole.Warming : ServerRole.Draining);
            }
        }

        if (plan.Decision.Action == ScalingAction.Hold)
        {
            Log.Hold(_logger, plan.Backend, plan.Decision.Reason);
            return;
        }

        string action = plan.Decision.Action == ScalingAction.Up ? "up" : "down";
        foreach (string server in plan.Servers)
        {
            Log.Decision(_logger, plan.Backend, action, server, plan.Decision.Reason, Value(plan.Window));
            _metrics.Decisions.Add(1, Tags(plan.Backend, action));
            Task task = ActAsync(scaler, server, plan, cancellationToken);
            _actions.TryAdd(task, 0);
            _ = task.ContinueWith(t => _actions.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    // One action on one server: its steps, then its role (enabled or parked on success; back where it was, with a
    // back-off, on failure) and one log event either way.
    private async Task ActAsync(BackendScaler scaler, string server, ScalingPlan plan, CancellationToken cancellationToken)
    {
        await Task.Yield();
        bool up = plan.Decision.Action == ScalingAction.Up;
        long started = _time.GetTimestamp();
        string? failure;
        try
        {
            failure = up
                ? await EnableAsync(scaler.Options, server, cancellationToken).ConfigureAwait(false)
                : await DisableAsync(scaler.Options, server, cancellationToken).ConfigureAwait(false);
        }
        catch (HaproxyControlException e)
        {
            failure = e.Message;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            failure = "stopped before it completed";
        }

        if (failure is not null)
        {
            Failed(scaler, server, up ? "up" : "down", up ? ServerRole.Parked : ServerRole.Active, failure, started);
            return;
        }

        lock (scaler)
        {
            scaler.SetRole(server, up ? ServerRole.Active : ServerRole.Parked);
        }

        Completed(plan.Backend, server, up ? "up" : "down", plan, started);
    }

    // Warm-up, then weight and ready; returns why it failed, or null.
    private async Task<string?> EnableAsync(BackendOptions backend, string server, CancellationToken cancellationToken)
    {
        ServerOptions options = backend.Servers.First(s => s.Name == server);
        if (options.WarmupUrl is { } url)
        {
            WarmupResult warmup = await _warmup.WarmUpAsync(url, cancellationToken).ConfigureAwait(false);
            if (!warmup.Succeeded)
            {
                Log.WarmupFailed(_logger, backend.Name, server, url, warmup.Reason);
                return $"warm-up: {warmup.Reason}";
            }
        }

        // Weight first, so the server starts taking traffic at the weight it is meant to have.
        await SendAsync(backend.Name, server,
            [$"set weight {backend.Name}/{server} {options.Weight}", $"set server {backend.Name}/{server} state ready"], cancellationToken).ConfigureAwait(false);
        return null;
    }

    // Drain, wait for no session, maintenance (or the original weight 0 + disable); returns null: failures throw.
    private async Task<string?> DisableAsync(BackendOptions backend, string server, CancellationToken cancellationToken)
    {
        string name = $"{backend.Name}/{server}";
        if (backend.ScaleDown.Mode == ScaleDownMode.Immediate)
        {
            await SendAsync(backend.Name, server, [$"set weight {name} 0", $"disable server {name}"], cancellationToken).ConfigureAwait(false);
            return null;
        }

        await SendAsync(backend.Name, server, [$"set server {name} state drain"], cancellationToken).ConfigureAwait(false);
        await WaitForNoSessionsAsync(backend.Name, server, backend.ScaleDown.DrainTimeout, cancellationToken).ConfigureAwait(false);
        await SendAsync(backend.Name, server, [$"set server {name} state maint"], cancellationToken).ConfigureAwait(false);
        return null;
    }

    // Polls HAProxy's current sessions on the server (on every instance) until none is left or the timeout.
    private async Task WaitForNoSessionsAsync(string backend, string server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_dryRun)
        {
            return;
        }

        DateTimeOffset deadline = _time.GetUtcNow() + timeout;
        while (_time.GetUtcNow() < deadline)
        {
            int sessions = 0;
            foreach (IHaproxyControl instance in Instances)
            {
                try
                {
                    sessions += (await instance.ShowStatAsync(cancellationToken).ConfigureAwait(false))
                        .Where(r => r.Backend == backend && r.Server == server).Sum(r => r.CurrentSessions);
                }
                catch (HaproxyControlException e) when (e.Kind is HaproxyErrorKind.ConnectionFailed or HaproxyErrorKind.Timeout)
                {
                    // An unreachable instance has no sessions we could wait for.
                }
            }

            if (sessions == 0)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SendAsync(string backend, string server, IReadOnlyList<string> commands, CancellationToken cancellationToken)
    {
        if (_dryRun)
        {
            Log.DryRun(_logger, backend, server, string.Join("; ", commands));
            return;
        }

        foreach (string command in commands)
        {
            await _control.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Completed(string backend, string server, string action, ScalingPlan plan, long started)
    {
        _failures.TryRemove($"{backend}/{server}", out _);
        Log.ActionCompleted(_logger, backend, server, action, (long)_time.GetElapsedTime(started).TotalMilliseconds, plan.Decision.Reason, Value(plan.Window));
        _metrics.Actions.Add(1, Tags(backend, action));
    }

    private void Failed(BackendScaler scaler, string server, string action, ServerRole role, string error, long started)
    {
        string backend = scaler.Options.Name;
        int failures = _failures.AddOrUpdate($"{backend}/{server}", 1, (_, n) => n + 1);
        TimeSpan backoff = TimeSpan.FromTicks(Math.Min(MaxFailureBackoff.Ticks, _options.Warmup.FailureBackoff.Ticks * (1L << Math.Min(failures - 1, 20))));
        lock (scaler)
        {
            scaler.SetRole(server, role);
            scaler.BackOff(server, _time.GetUtcNow() + backoff);
        }

        Log.ActionFailed(_logger, backend, server, action, (long)_time.GetElapsedTime(started).TotalMilliseconds, error, Durations.Format(backoff));
        _metrics.ActionFailures.Add(1, Tags(backend, action));
    }

    private IReadOnlyList<IHaproxyControl> Instances => _control is IHaproxyFanOut fanOut ? fanOut.Instances : [_control];

    private async Task ReconcileLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.ReconcileInterval, _time, cancellationToken).ConfigureAwait(false);
                await ReconcileAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Reads every instance's state. The first time, adopts it. Later: a restarted instance (new PID, or an uptime
    /// that went back) lost its runtime state and gets the desired state again; otherwise a server we keep active
    /// but found in maintenance was put there by someone: it is left alone and reported.
    /// </summary>
    internal async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        foreach (IHaproxyControl instance in Instances)
        {
            try
            {
                HaproxyInfo info = await instance.ShowInfoAsync(cancellationToken).ConfigureAwait(false);
                bool restarted = _instances.TryGetValue(instance.Endpoint, out HaproxyInfo? previous) && (previous.Pid != info.Pid || info.Uptime < previous.Uptime);
                _instances[instance.Endpoint] = info;
                var reapply = new List<string>();
                foreach (BackendScaler scaler in _scalers.Values)
                {
                    IReadOnlyList<ServerState> states = await instance.ShowServersStateAsync(scaler.Options.Name, cancellationToken).ConfigureAwait(false);
                    reapply.AddRange(Reconcile(instance.Endpoint, scaler, states, restarted));
                }

                if (restarted && reapply.Count > 0)
                {
                    Log.Reapplying(_logger, instance.Endpoint, previous!.Pid, info.Pid, (long)info.Uptime.TotalSeconds, reapply.Count / 2);
                    if (!_dryRun)
                    {
                        foreach (string command in reapply)
                        {
                            await instance.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }
            catch (HaproxyControlException e)
            {
                Log.ReconcileFailed(_logger, e.Message);
            }
        }

        _adopted = true;
    }

    private List<string> Reconcile(string endpoint, BackendScaler scaler, IReadOnlyList<ServerState> states, bool restarted)
    {
        var commands = new List<string>();
        string backend = scaler.Options.Name;
        lock (scaler)
        {
            foreach (ServerOptions server in scaler.Options.Servers)
            {
                ServerState? state = states.FirstOrDefault(s => s.Server == server.Name);
                if (state is null)
                {
                    if (!_adopted)
                    {
                        Log.UnknownServer(_logger, backend, server.Name, endpoint);
                    }

                    continue;
                }

                ServerRole role = scaler.RoleOf(server.Name);
                if (role is ServerRole.Warming or ServerRole.Draining)
                {
                    continue; // an action is on it
                }

                ServerAdminState real = state.AdminState;
                if (!_adopted)
                {
                    ServerRole adopted = real == ServerAdminState.Ready ? ServerRole.Active : ServerRole.Parked;
                    scaler.SetRole(server.Name, adopted, justEnabled: false);
                    Log.Adopted(_logger, backend, server.Name, adopted.ToString().ToLowerInvariant(), endpoint);
                }
                else if (restarted)
                {
                    if (role == ServerRole.Active && real != ServerAdminState.Ready)
                    {
                        commands.Add($"set weight {backend}/{server.Name} {server.Weight}");
                        commands.Add($"set server {backend}/{server.Name} state ready");
                    }
                    else if (role == ServerRole.Parked && real != ServerAdminState.Maint)
                    {
                        commands.Add($"set weight {backend}/{server.Name} {server.Weight}");
                        commands.Add($"set server {backend}/{server.Name} state maint");
                    }
                }
                else if (role == ServerRole.Active && real == ServerAdminState.Maint)
                {
                    scaler.SetRole(server.Name, ServerRole.HeldByOperator);
                    Log.HeldByOperator(_logger, backend, server.Name, endpoint);
                }
                else if (role is ServerRole.HeldByOperator or ServerRole.Parked && real == ServerAdminState.Ready)
                {
                    scaler.SetRole(server.Name, ServerRole.Active, justEnabled: false);
                    Log.Adopted(_logger, backend, server.Name, "active", endpoint);
                }
            }
        }

        return commands;
    }

    private IEnumerable<Measurement<long>> LineMeasurements()
    {
        LogSourceCounters counters = _source.Counters;
        yield return new Measurement<long>(counters.Lines, new KeyValuePair<string, object?>("outcome", "read"));
        yield return new Measurement<long>(UnparsedLines, new KeyValuePair<string, object?>("outcome", "unparsed"));
        yield return new Measurement<long>(counters.Dropped, new KeyValuePair<string, object?>("outcome", "dropped"));
    }

    private IEnumerable<Measurement<double>> WindowMeasurements() =>
        Snapshot().Where(s => s.Window.HasValue).Select(s => new Measurement<double>(s.Window.Value, new KeyValuePair<string, object?>("backend", s.Backend)));

    private IEnumerable<Measurement<int>> ActiveMeasurements() =>
        Snapshot().Select(s => new Measurement<int>(s.Servers.Count(x => x.Role is ServerRole.Active or ServerRole.Warming), new KeyValuePair<string, object?>("backend", s.Backend)));

    private static KeyValuePair<string, object?>[] Tags(string backend, string action) => [new("backend", backend), new("action", action)];

    private static string Value(WindowValue window) =>
        window.HasValue ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{window.Value:0.#} ms") : "no samples";
}
