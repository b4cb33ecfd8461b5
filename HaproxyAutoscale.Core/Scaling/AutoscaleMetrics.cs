using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HaproxyAutoscale.Scaling;

/// <summary>Names of the autoscaler's metrics, for exporters and dashboards.</summary>
public static class AutoscaleMetricsNames
{
    /// <summary>The meter's name.</summary>
    public const string Meter = "HaproxyAutoscale";
}

/// <summary>
/// The engine's instruments on the <c>HaproxyAutoscale</c> meter (no exporter here: the CLI or the host chooses one).
/// Per backend, never per server: a fleet's series stay few.
/// </summary>
internal sealed class AutoscaleMetrics : IDisposable
{
    private static readonly ServerLifecycleState[] States = Enum.GetValues<ServerLifecycleState>();
    private static readonly string[] StateNames = [.. States.Select(ServerStates.Name)]; // made once, not per backend and state
    private readonly Meter _meter;
    private readonly HashSet<(string Backend, bool Provider)> _zeroed = [];
    private DateTimeOffset _zerosRefreshed = DateTimeOffset.MinValue;

    public AutoscaleMetrics(Func<IEnumerable<Measurement<long>>> lines, Func<IReadOnlyList<BackendSnapshot>> take, IMeterFactory? factory = null)
    {
        var recent = new RecentSnapshot(take);
        IReadOnlyList<BackendSnapshot> Snapshot() => SharedSnapshots.Get(this, take) ?? recent.Get();
        _meter = factory?.Create(AutoscaleMetricsNames.Meter) ?? new Meter(AutoscaleMetricsNames.Meter);
        _meter.CreateObservableCounter("log_lines", lines, "{line}", "Log lines read, unparsed, dropped, rejected, oversized and malformed (tag: outcome).");
        _meter.CreateObservableGauge("window_value_ms", () => PerBackend<double>(Snapshot(), s => s.Window.HasValue ? s.Window.Value : null), "ms",
            "Each backend's window value (no measurement without samples).");
        _meter.CreateObservableGauge("servers_active", () => PerBackend<int>(Snapshot(), s => s.Servers.Count(x => x.Role is ServerRole.Active or ServerRole.Warming)), "{server}",
            "Each backend's active servers, warming included.");
        _meter.CreateObservableGauge("log_coverage", () => PerBackend(Snapshot(), s => s.Coverage), "1",
            "Requests logged / requests HAProxy counted, per backend (no measurement while HAProxy counts none).");
        _meter.CreateObservableGauge("backend_blind", () => PerBackend<int>(Snapshot(), s => s.Blind ? 1 : 0), "1",
            "1 while a backend is blind (its logs miss the requests HAProxy counts): no scale-down.");
        _meter.CreateObservableGauge("backend_paused", () => PerBackend<int>(Snapshot(), s => s.PausedUntil is null ? 0 : 1), "1",
            "1 while a backend is paused by an operator: it decides but does not act.");
        _meter.CreateObservableGauge("servers_lifecycle", () => Lifecycles(Snapshot()), "{server}",
            "Each backend's servers per lifecycle state (tags: backend, state: stopped, starting, warming, active, draining, parked, stopping, held-by-operator).");
        _meter.CreateObservableGauge("window_objective_ms", () => PerBackend(Snapshot(), s => s.ObjectiveMs), "ms",
            "Each backend's latency objective the window value is compared with: the policy's threshold, band upper bound or target (none for a policy without one).");
        _meter.CreateObservableGauge("servers_desired", () => PerBackend(Snapshot(), s => s.Gauges?.Desired), "{server}",
            "The active servers each backend's last decision wants within its bounds, before cooldowns and the other rules that pace a change.");
        _meter.CreateObservableGauge("servers_min", () => PerBackend(Snapshot(), s => s.Gauges?.MinActive), "{server}",
            "Each backend's lower bound of active servers (minActive, raised by a scheduled floor).");
        _meter.CreateObservableGauge("servers_max", () => PerBackend(Snapshot(), s => s.Gauges?.MaxActive), "{server}", "Each backend's upper bound of active servers (maxActive).");
        _meter.CreateObservableGauge("in_flight", () => PerBackend(Snapshot(), s => s.Gauges?.InFlight), "{request}",
            "Requests in flight each backend's last evaluation saw (HAProxy's sessions and queue, or Little's law on the logged requests).");
        _meter.CreateObservableGauge("forecast_servers", () => PerBackend(Snapshot(), s => s.Forecast?.Servers), "{server}",
            "Each backend's forecast floor (forecast mode forecast-only or on; with forecast-only it is shown, not acted on); none without a forecast.");
        _meter.CreateObservableGauge("capacity_workers", () => PerBackend(Snapshot(), s => s.Capacity?.Workers), "{request}",
            "Each backend's learned effective workers per server (requests served at full speed at once).");
        _meter.CreateObservableGauge("capacity_service_ms", () => PerBackend(Snapshot(), s => s.Capacity?.ServiceMeanMs), "ms",
            "Each backend's learned service time: the mean response time (Tr) of a request alone on its server.");
        _meter.CreateObservableGauge("capacity_per_server", () => PerBackend(Snapshot(), s => s.Capacity?.PerServerAtSlo), "{request}/s",
            "Requests per second one server of each backend takes with its p95 within the SLO, from the learned model.");
        _meter.CreateObservableGauge("capacity_confident", () => PerBackend<int>(Snapshot(), s => s.Capacity is null ? null : s.Capacity.Confident ? 1 : 0), "1",
            "1 while a backend's learned model has enough requests at enough concurrencies to size by.");
        Decisions = _meter.CreateCounter<long>("decisions", "{decision}", "Up and down decisions (tags: backend, action).");
        Actions = _meter.CreateCounter<long>("actions", "{action}", "Completed scaling actions (tags: backend, action).");
        ActionFailures = _meter.CreateCounter<long>("action_failures", "{action}", "Failed warm-ups and commands (tags: backend, action).");
        Reloads = _meter.CreateCounter<long>("reloads", "{reload}", "Configuration reloads (SIGHUP, POST /reload) (tag: outcome: applied, rejected).");

        _meter.CreateObservableGauge("backend_zero", () => PerBackend<int>(Snapshot(), s => s.AtZero ? 1 : 0), "1",
            "1 while a backend is at zero by choice (scale to zero: no server active, warming or draining).");
        _meter.CreateObservableGauge("backend_waking", () => PerBackend<int>(Snapshot(), s => s.Waking is null ? 0 : 1), "1",
            "1 while a backend is being woken from zero (from the wake line to its first server taking traffic).");
        Wakes = _meter.CreateCounter<long>("wakes", "{line}",
            "Wake lines from HAProxy's Lua hold (tags: backend, outcome: woken, added, waking, not-at-zero, held, no-server, unknown-backend with backend \"\").");
        WakeToReady = LagHistogram("wake_to_ready_seconds", "From the wake line that found a backend at zero to its first server taking traffic (tag: backend).");
        ExtensionFailures = _meter.CreateCounter<long>("extension_failures", "{exception}", "Exceptions thrown by a policy, window, warm-up, control or log source, contained by the engine (tags: backend, extension).");
        Holds = _meter.CreateCounter<long>("holds", "{evaluation}", "Evaluations whose up or down decision an engine rule held back (tags: backend, gate: bounds, cooldown, blind, paused, standby…).");
        ProviderFailures = _meter.CreateCounter<long>("provider_failures", "{call}", "Provider calls that failed or timed out (tags: backend, operation: start, stop, status).");
        ScaleUpLag = LagHistogram("scale_up_lag_seconds", "From a scale-up decision to its server enabled in HAProxy (start, warm-up and commands included) (tag: backend).");
        StartToReady = LagHistogram("start_to_ready_seconds", "From asking the provider to start a server to the server ready: started and, with a warm-up, warm (tag: backend).");
        EvaluationPass = Histogram("evaluation_pass_seconds", "How long one evaluation pass over every backend took (decide, and start the actions).", PassBuckets);
    }

    /// <summary>Bucket boundaries, in seconds, for lags of a fraction of a second to minutes.</summary>
    public static IReadOnlyList<double> LagBuckets { get; } = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];

    /// <summary>Bucket boundaries, in seconds, for an evaluation pass: a millisecond to seconds (the interval is one second by default).</summary>
    public static IReadOnlyList<double> PassBuckets { get; } = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

    /// <summary>The meter, for instruments of optional parts (active/standby).</summary>
    public Meter Meter => _meter;

    public Counter<long> Decisions { get; }

    public Counter<long> Actions { get; }

    public Counter<long> ActionFailures { get; }

    public Counter<long> ExtensionFailures { get; }

    public Counter<long> Holds { get; }

    public Counter<long> ProviderFailures { get; }

    public Histogram<double> ScaleUpLag { get; }

    public Histogram<double> StartToReady { get; }

    /// <summary>One evaluation pass over every backend, engine-wide (no tag): what grows with the number of backends.</summary>
    public Histogram<double> EvaluationPass { get; }

    /// <summary>
    /// Adds 0 to the counters alerts read, so that an exporter shows them at 0 before their first event (a series
    /// that appears at 1 has no increase to Prometheus) and keeps them while they are idle (prometheus-net drops a
    /// series not updated for a while, 5 minutes by default): each backend's decisions, actions and failures, its
    /// provider's failures, and the engine-wide contained failures. Called at start and on every reconcile: a backend
    /// seen for the first time gets its zeros at once, every backend again once <see cref="ZerosRefresh"/> has passed
    /// (at 10,000 backends, 60,000 additions on every reconcile were ~6 % of the daemon's CPU).
    /// </summary>
    public void AddZeros(IEnumerable<(string Backend, bool Provider)> backends, DateTimeOffset now)
    {
        bool all = now - _zerosRefreshed >= ZerosRefresh || now < _zerosRefreshed;
        ExtensionFailures.Add(0, ExtensionTags("", "source"));
        ExtensionFailures.Add(0, ExtensionTags("", "control"));
        foreach ((string backend, bool provider) in backends)
        {
            if (!_zeroed.Add((backend, provider)) && !all)
            {
                continue;
            }

            foreach (string action in (string[])["up", "down"])
            {
                Decisions.Add(0, Tags(backend, action));
                Actions.Add(0, Tags(backend, action));
                ActionFailures.Add(0, Tags(backend, action));
            }

            foreach (string operation in provider ? (string[])["start", "stop", "status"] : [])
            {
                ProviderFailures.Add(0, OperationTags(backend, operation));
            }
        }

        _zerosRefreshed = all ? now : _zerosRefreshed;
    }

    /// <summary>How often every backend's zeros are added again (well within prometheus-net's default 5 minutes).</summary>
    internal static TimeSpan ZerosRefresh { get; } = TimeSpan.FromMinutes(1);

    public Counter<long> Reloads { get; }

    public Counter<long> Wakes { get; }

    public Histogram<double> WakeToReady { get; }

    public static KeyValuePair<string, object?>[] WakeTags(string backend, string outcome) => [new("backend", backend), new("outcome", outcome)];

    public static KeyValuePair<string, object?>[] Tags(string backend, string action) => [new("backend", backend), new("action", action)];

    public static KeyValuePair<string, object?>[] HoldTags(string backend, string gate) => [new("backend", backend), new("gate", gate)];

    public static KeyValuePair<string, object?>[] OperationTags(string backend, string operation) => [new("backend", backend), new("operation", operation)];

    public static KeyValuePair<string, object?> BackendTag(string backend) => new("backend", backend);

    public static KeyValuePair<string, object?>[] ExtensionTags(string backend, string extension) => [new("backend", backend), new("extension", extension)];

    public void Dispose() => _meter.Dispose();

    /// <summary>
    /// Until disposed, the gauges read on this flow (one collection of an exporter that reads them all in one go, as the
    /// CLI's <c>/metrics</c>) share one snapshot of every backend per autoscaler, the first gauge's, instead of each taking
    /// its own: at 10,000 backends a snapshot evaluates 10,000 windows under their backends' locks, and the ~20 gauges
    /// took ~20 per scrape. Outside such a scope (a host's own exporter) a snapshot serves the gauges read within
    /// <see cref="RecentSnapshot.Reuse"/> of it.
    /// </summary>
    public static IDisposable ShareSnapshots() => SharedSnapshots.Begin();

    // A histogram in seconds whose buckets suit lags (advised to the exporter: the OpenTelemetry SDK and the CLI's
    // endpoint honour the advice; .NET 8 has none, so its exporter's defaults apply there).
    private Histogram<double> LagHistogram(string name, string description) => Histogram(name, description, LagBuckets);

    private Histogram<double> Histogram(string name, string description, IReadOnlyList<double> buckets) =>
#if NET9_0_OR_GREATER
        _meter.CreateHistogram(name, "s", description, tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = buckets });
#else
        _meter.CreateHistogram<double>(name, "s", description);
#endif

    // One measurement per backend and lifecycle state, zeros included, so a dashboard sees a state empty out. The
    // servers are counted in one pass per backend and the states' names made once (at 10,000 backends, a count and a name per state allocated ~10 MB a scrape).
    private static IEnumerable<Measurement<int>> Lifecycles(IReadOnlyList<BackendSnapshot> snapshots)
    {
        int[] counts = new int[States.Length];
        foreach (BackendSnapshot snapshot in snapshots)
        {
            Array.Clear(counts);
            for (int i = 0; i < snapshot.Servers.Count; i++)
            {
                counts[Array.IndexOf(States, snapshot.Servers[i].Lifecycle)]++;
            }

            for (int i = 0; i < States.Length; i++)
            {
                yield return new Measurement<int>(counts[i],
                    new KeyValuePair<string, object?>("backend", snapshot.Backend), new KeyValuePair<string, object?>("state", StateNames[i]));
            }
        }
    }

    private static IEnumerable<Measurement<T>> PerBackend<T>(IReadOnlyList<BackendSnapshot> snapshots, Func<BackendSnapshot, T?> value)
        where T : struct
    {
        foreach (BackendSnapshot snapshot in snapshots)
        {
            if (value(snapshot) is T measured)
            {
                yield return new Measurement<T>(measured, new KeyValuePair<string, object?>("backend", snapshot.Backend));
            }
        }
    }
}

/// <summary>The snapshots of one collection (<see cref="AutoscaleMetrics.ShareSnapshots"/>), one per autoscaler, on the collecting flow.</summary>
internal sealed class SharedSnapshots : IDisposable
{
    private static readonly AsyncLocal<SharedSnapshots?> Current = new();
    private readonly SharedSnapshots? _outer;
    private readonly List<(object Owner, IReadOnlyList<BackendSnapshot> Snapshot)> _taken = [];

    private SharedSnapshots(SharedSnapshots? outer) => _outer = outer;

    public static SharedSnapshots Begin() => Current.Value = new SharedSnapshots(Current.Value);

    /// <summary>The owner's snapshot of this collection (taken now if it is the first); <see langword="null"/> outside a collection.</summary>
    public static IReadOnlyList<BackendSnapshot>? Get(object owner, Func<IReadOnlyList<BackendSnapshot>> take)
    {
        if (Current.Value is not { } scope)
        {
            return null;
        }

        lock (scope._taken)
        {
            foreach ((object taker, IReadOnlyList<BackendSnapshot> snapshot) in scope._taken)
            {
                if (ReferenceEquals(taker, owner))
                {
                    return snapshot;
                }
            }

            IReadOnlyList<BackendSnapshot> taken = take();
            scope._taken.Add((owner, taken));
            return taken;
        }
    }

    public void Dispose() => Current.Value = _outer;
}

/// <summary>
/// The gauges' snapshot outside a <see cref="AutoscaleMetrics.ShareSnapshots"/> scope: an exporter of the host (the
/// OpenTelemetry SDK, <c>dotnet-counters</c>) reads the ~20 gauges one after another, and at 10,000 backends each
/// snapshot takes ~100 ms and ~9.5 MB; one taken less than <see cref="Reuse"/> ago serves them all.
/// </summary>
internal sealed class RecentSnapshot(Func<IReadOnlyList<BackendSnapshot>> take)
{
    /// <summary>How long a snapshot serves the gauges read after it (exporters collect every second or less often).</summary>
    public static readonly TimeSpan Reuse = TimeSpan.FromMilliseconds(250);

    private readonly object _gate = new();
    private IReadOnlyList<BackendSnapshot>? _snapshot;
    private long _takenAt;

    public IReadOnlyList<BackendSnapshot> Get()
    {
        lock (_gate)
        {
            if (_snapshot is null || Stopwatch.GetElapsedTime(_takenAt) > Reuse)
            {
                _snapshot = take();
                _takenAt = Stopwatch.GetTimestamp(); // from its end: a slow snapshot still serves the gauges after it
            }

            return _snapshot;
        }
    }
}
