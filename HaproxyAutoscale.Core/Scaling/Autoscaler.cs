using System.Diagnostics.Metrics;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Logs;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The autoscaler: log source → parser → per-backend decider (window → policy → plan) → actuator (warm-up and
/// Runtime API commands), with a reconciler that reads HAProxy's real state at start and every
/// <see cref="AutoscaleOptions.ReconcileInterval"/>. Each backend decides on its own; log reading never waits for an
/// action. An exception from a policy, window, warm-up or control is contained (logged, counted in
/// <c>extension_failures</c>) and leaves its backend holding or its server parked. Build it with
/// <see cref="Hosting.AutoscalerBuilder"/> or <c>services.AddHaproxyAutoscale(…)</c>.
/// </summary>
public sealed partial class Autoscaler : IAsyncDisposable
{
    private AutoscaleOptions _options; // replaced by a reload
    private ILogSource _source; // replaced by a reload that re-binds the log source
    private readonly string _endpoints;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly bool _dryRun;
    private readonly LiveBackends _backends;
    private readonly Actuator _actuator;
    private readonly KeepWarm _keepWarm;
    private readonly ActionServices _actions;
    private readonly BackendEvaluation _evaluation;
    private readonly Reconciler _reconciler;
    private readonly CounterPoller _counters;
    private readonly AutoscaleMetrics _metrics;
    private readonly List<IAsyncDisposable> _owned;
    private readonly LeaderRole? _leader; // active/standby (ha); null: this replica acts alone
    private readonly SemaphoreSlim _reconciling = new(1, 1);
    private readonly Heartbeat _heartbeat;
    private readonly Wakes _wakes;
    private long _unparsed;

    internal Autoscaler(AutoscaleOptions options, EngineConnections connections, EngineRegistries registries, EngineRuntime runtime, IReadOnlyList<IAsyncDisposable> owned)
    {
        _configured = options; // the builder's copy, as configured (pool slots not expanded): what a reload compares with
        options = OptionsCopy.ForEngine(options);
        _options = options;
        _source = connections.Source;
        _endpoints = connections.Control.Endpoint;
        _time = runtime.Time;
        _logger = runtime.Loggers.CreateLogger("HaproxyAutoscale");
        _dryRun = runtime.DryRun;
        _heartbeat = new Heartbeat(() => _options.EvaluationInterval);
        _owned = [.. owned];
        _history = options.StateDirectory is { } state ? new DemandHistoryStore(new System.IO.Abstractions.FileSystem(), state) : null;
        _capacity = new Capacity.CapacityStore(options.StateDirectory, _time, _logger);
        _factory = new BackendFactory(registries, runtime, _logger, connections.Election, _history) { Capacity = _capacity };
        _backends = new LiveBackends([.. options.Backends.Select(b => _factory.Create(b, options))]);

        IHaproxyControl control = connections.Control;
        IReadOnlyList<IHaproxyControl> instances = control is IHaproxyFanOut fanOut ? fanOut.Instances : [control];
        _metrics = new AutoscaleMetrics(LineMeasurements, () => [.. _backends.Values.Select(b => b.Snapshot(withDecision: false))], runtime.Meters);
        List<IPlanStep> steps = [new PauseStep(_logger)];
        if (connections.Election is { } election)
        {
            _leader = new LeaderRole(election, _logger, _metrics.Meter);
            steps.Add(_leader); // a standby holds every plan
            (control, instances) = _leader.Wrap(control);
        }

        if (_dryRun)
        {
            (control, instances) = DryRunHaproxyControl.Wrap(control, _logger);
        }

        _actions = new ActionServices(_time, _logger, _metrics, options.Warmup.FailureBackoff);
        var providerCalls = new ProviderCalls(instances, _actions);
        _actuator = new Actuator(control, instances, connections.Warmup, new ServerStarts(instances, providerCalls, _actions), _actions);
        _wakes = new Wakes(_backends, () => _leader is not { IsActing: false }, _actions, _actuator.Start);
        _keepWarm = new KeepWarm(providerCalls, _actions);
        _evaluation = new BackendEvaluation(steps, _logger, _metrics);
        _reconciler = new Reconciler(instances, _backends, _logger, _metrics, _dryRun);
        _counters = new CounterPoller(instances, _backends, _time, _logger, _metrics);
    }

    /// <summary>The log source's counters (lines, drops); after a reload re-bound it, summed over the sources read.</summary>
    public LogSourceCounters LogCounters => SourceCounters();

    /// <summary>What each sender delivered to a TCP log source (none for other sources): the fleet view of <c>status</c>.</summary>
    internal IReadOnlyList<LogSenderStatistics> LogSenders => _source is TcpLogSource tcp ? tcp.Senders : [];

    /// <summary>Lines read that were not request logs.</summary>
    public long UnparsedLines => Interlocked.Read(ref _unparsed);

    /// <summary>Completes once the engine runs: its log source listens, the first reconcile is done, the loops started (cancelled if the run ends before).</summary>
    public Task Started => _heartbeat.Started;

    /// <summary>When the evaluation loop last completed a pass (null before the first): a liveness signal for a watchdog or a health check.</summary>
    public DateTimeOffset? LastEvaluation => _heartbeat.LastBeat;

    /// <summary>Each backend's window and servers now.</summary>
    public IReadOnlyList<BackendSnapshot> Snapshot() => [.. _backends.Values.Select(b => b.Snapshot())];

    /// <summary>What <paramref name="backend"/> is doing now (as in <see cref="Snapshot()"/>), or <see langword="null"/> for a backend not autoscaled.</summary>
    public BackendSnapshot? Snapshot(string backend) => _backends.TryGetValue(backend, out ScaledBackend? scaled) ? scaled.Snapshot() : null;

    /// <summary>The names of the backends being autoscaled, without a snapshot of each.</summary>
    public IReadOnlyList<string> BackendNames() => [.. _backends.Values.Select(b => b.Name)];

    /// <summary>
    /// Runs until <paramref name="cancellationToken"/> is cancelled (or a finite log source ends), then waits for
    /// actions in flight. Throws the log source's exception if it failed (after logging it).
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken) => _heartbeat.TrackAsync(RunLoopsAsync(cancellationToken));

    private async Task RunLoopsAsync(CancellationToken cancellationToken)
    {
        Log.Started(_logger, _backends.Count, _source.Address, _endpoints, _dryRun ? " (dry run: no command that changes HAProxy is sent)" : "");
        _running = true;
        await ReconcileAsync(cancellationToken).ConfigureAwait(false);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _actions.Track(AdoptProcessesAsync(stop.Token)); // beside the loops: a fleet's providers may take minutes to answer
        using var stopElection = new CancellationTokenSource();
        Task electing = _leader?.Election.RunAsync(stopElection.Token) ?? Task.CompletedTask;
        Task reading = ReadLogsAsync(stop.Token);
        Task evaluating = EvaluateLoopAsync(stop.Token);
        Task reconciling = Periodic.RunAsync(_options.ReconcileInterval, ReconcileAsync, _heartbeat, _time, stop.Token);
        Task counting = Periodic.RunAsync(_options.CounterInterval, _counters.PollAsync, _heartbeat, _time, stop.Token, now: true);
        Task learning = Periodic.RunAsync(Capacity.CapacityStore.PassEvery, LearnedCapacityPassAsync, _heartbeat, _time, stop.Token);
        _heartbeat.Start();
        await Task.WhenAny(reading, evaluating, reconciling, counting, learning).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(reading, evaluating, reconciling, counting, learning).ConfigureAwait(false);
        }
        finally
        {
            _capacity.Pass(_backends.Values, all: true); // what was learned survives the restart
            await _actions.WhenIdleAsync().ConfigureAwait(false);
            await _flushing.ConfigureAwait(false);
            FlushHistory(); // the minutes completed since the last pass's flush
            await _flushing.ConfigureAwait(false);

            // The leadership is given up only once no action is left that could still send a command.
            await stopElection.CancelAsync().ConfigureAwait(false);
            await electing.ConfigureAwait(false);
            _running = false;
            LogSourceCounters counters = LogCounters;
            Log.Stopped(_logger, counters.Lines, UnparsedLines, counters.Dropped, counters.Oversized);
        }
    }

    // What the providers run, asked once HAProxy's state is adopted (see KeepWarm.AdoptProcessesAsync); a stop during
    // it leaves the servers not asked yet stopped as far as a scale-up knows.
    private async Task AdoptProcessesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Yield(); // never on the start's thread
            await _keepWarm.AdoptProcessesAsync(_backends.Values, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Disposes what the builder created from the options (log source, sockets, HTTP warm-up) and the meter. A log
    /// source, control or warm-up the caller supplied stays the caller's to dispose.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _metrics.Dispose();
        _reconciling.Dispose();
        _reloading.Dispose();
        foreach (IAsyncDisposable owned in _owned)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Pauses <paramref name="backend"/> for <paramref name="duration"/> (null: until <see cref="Resume"/>): it keeps
    /// deciding and logging, but no action starts; actions already running finish. Returns false for an unknown backend.
    /// </summary>
    public bool Pause(string backend, TimeSpan? duration = null)
    {
        if (!_backends.TryGetValue(backend, out ScaledBackend? scaled))
        {
            return false;
        }

        DateTimeOffset until = duration is { } d ? _time.GetUtcNow() + d : DateTimeOffset.MaxValue;
        lock (scaled.Gate)
        {
            scaled.PausedUntil = until;
        }

        Log.Paused(_logger, backend, duration is { } forHow ? $"for {Durations.Format(forHow)}" : "until resumed");
        return true;
    }

    /// <summary>Ends a pause of <paramref name="backend"/>. Returns false for an unknown backend.</summary>
    public bool Resume(string backend)
    {
        if (!_backends.TryGetValue(backend, out ScaledBackend? scaled))
        {
            return false;
        }

        lock (scaled.Gate)
        {
            scaled.PausedUntil = null;
        }

        Log.Resumed(_logger, backend, "resumed by an operator");
        return true;
    }

    // A reconcile pass; a replica that does not act (standby, or taking over) adopts HAProxy's state instead of
    // applying its own. Passes never overlap (the periodic one and a takeover's).
    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        await _reconciling.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _metrics.AddZeros(_backends.Values.Select(b => (b.Name, b.Provider is not null)), _time.GetUtcNow());
            if (_leader is { IsActing: false })
            {
                _reconciler.Readopt();
            }

            await _reconciler.ReconcileAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reconciling.Release();
        }
    }

    // A new leader reconciles first, and keeps the refill rule as after a start: no scale-down on a window it did not fill as leader.
    private async Task TakeOverAsync(CancellationToken cancellationToken)
    {
        await ReconcileAsync(cancellationToken).ConfigureAwait(false);
        foreach (ScaledBackend backend in _backends.Values)
        {
            lock (backend.Gate)
            {
                backend.Decider.RestartRefill();
            }
        }
    }

    private IEnumerable<Measurement<long>> LineMeasurements()
    {
        LogSourceCounters counters = LogCounters;
        yield return new Measurement<long>(counters.Lines, new KeyValuePair<string, object?>("outcome", "read"));
        yield return new Measurement<long>(UnparsedLines, new KeyValuePair<string, object?>("outcome", "unparsed"));
        yield return new Measurement<long>(counters.Dropped, new KeyValuePair<string, object?>("outcome", "dropped"));
        yield return new Measurement<long>(counters.Rejected, new KeyValuePair<string, object?>("outcome", "rejected"));
        yield return new Measurement<long>(counters.Oversized, new KeyValuePair<string, object?>("outcome", "oversized"));
        yield return new Measurement<long>(counters.Malformed, new KeyValuePair<string, object?>("outcome", "malformed"));
    }
}
