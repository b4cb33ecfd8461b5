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
/// </summary>
internal sealed class AutoscaleMetrics : IDisposable
{
    private const string WakeToReadyDescription = "From the wake line that found a backend at zero to its first server taking traffic.";

    private readonly Meter _meter;

    public AutoscaleMetrics(Func<IEnumerable<Measurement<long>>> lines, Func<IReadOnlyList<BackendSnapshot>> snapshot, IMeterFactory? factory = null)
    {
        _meter = factory?.Create(AutoscaleMetricsNames.Meter) ?? new Meter(AutoscaleMetricsNames.Meter);
        _meter.CreateObservableCounter("log_lines", lines, "{line}", "Log lines read, unparsed, dropped, rejected, oversized and malformed (tag: outcome).");
        _meter.CreateObservableGauge("window_value_ms", () => PerBackend<double>(snapshot(), s => s.Window.HasValue ? s.Window.Value : null), "ms",
            "Each backend's window value (no measurement without samples).");
        _meter.CreateObservableGauge("servers_active", () => PerBackend<int>(snapshot(), s => s.Servers.Count(x => x.Role is ServerRole.Active or ServerRole.Warming)), "{server}",
            "Each backend's active servers, warming included.");
        _meter.CreateObservableGauge("log_coverage", () => PerBackend(snapshot(), s => s.Coverage), "1",
            "Requests logged / requests HAProxy counted, per backend (no measurement while HAProxy counts none).");
        _meter.CreateObservableGauge("backend_blind", () => PerBackend<int>(snapshot(), s => s.Blind ? 1 : 0), "1",
            "1 while a backend is blind (its logs miss the requests HAProxy counts): no scale-down.");
        _meter.CreateObservableGauge("backend_paused", () => PerBackend<int>(snapshot(), s => s.PausedUntil is null ? 0 : 1), "1",
            "1 while a backend is paused by an operator: it decides but does not act.");
        _meter.CreateObservableGauge("servers_lifecycle", () => Lifecycles(snapshot()), "{server}",
            "Each backend's servers per lifecycle state (tags: backend, state: stopped, starting, warming, active, draining, parked, stopping, held-by-operator).");
        Decisions = _meter.CreateCounter<long>("decisions", "{decision}", "Up and down decisions (tags: backend, action).");
        Actions = _meter.CreateCounter<long>("actions", "{action}", "Completed scaling actions (tags: backend, action).");
        ActionFailures = _meter.CreateCounter<long>("action_failures", "{action}", "Failed warm-ups and commands (tags: backend, action).");
        _meter.CreateObservableGauge("backend_zero", () => PerBackend<int>(snapshot(), s => s.AtZero ? 1 : 0), "1",
            "1 while a backend is at zero by choice (scale to zero: no server active, warming or draining).");
        _meter.CreateObservableGauge("backend_waking", () => PerBackend<int>(snapshot(), s => s.Waking is null ? 0 : 1), "1",
            "1 while a backend is being woken from zero (from the wake line to its first server taking traffic).");
        Wakes = _meter.CreateCounter<long>("wakes", "{line}",
            "Wake lines from HAProxy's Lua hold (tags: backend, outcome: woken, added, waking, not-at-zero, held, no-server, unknown-backend with backend \"\").");
#if NET9_0_OR_GREATER
        WakeToReady = _meter.CreateHistogram("wake_to_ready", "s", WakeToReadyDescription,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120] });
#else
        WakeToReady = _meter.CreateHistogram<double>("wake_to_ready", "s", WakeToReadyDescription);
#endif
        ExtensionFailures = _meter.CreateCounter<long>("extension_failures", "{exception}", "Exceptions thrown by a policy, window, warm-up, control or log source, contained by the engine (tags: backend, extension).");
    }

    /// <summary>The meter, for instruments of optional parts (active/standby).</summary>
    public Meter Meter => _meter;

    public Counter<long> Decisions { get; }

    public Counter<long> Actions { get; }

    public Counter<long> ActionFailures { get; }

    public Counter<long> ExtensionFailures { get; }

    public Counter<long> Wakes { get; }

    public Histogram<double> WakeToReady { get; }

    public static KeyValuePair<string, object?>[] WakeTags(string backend, string outcome) => [new("backend", backend), new("outcome", outcome)];

    public static KeyValuePair<string, object?>[] Tags(string backend, string action) => [new("backend", backend), new("action", action)];

    public static KeyValuePair<string, object?>[] ExtensionTags(string backend, string extension) => [new("backend", backend), new("extension", extension)];

    public void Dispose() => _meter.Dispose();

    // One measurement per backend and lifecycle state, zeros included, so a dashboard sees a state empty out.
    private static IEnumerable<Measurement<int>> Lifecycles(IReadOnlyList<BackendSnapshot> snapshots)
    {
        foreach (BackendSnapshot snapshot in snapshots)
        {
            foreach (ServerLifecycleState state in Enum.GetValues<ServerLifecycleState>())
            {
                yield return new Measurement<int>(snapshot.Servers.Count(s => s.Lifecycle == state),
                    new KeyValuePair<string, object?>("backend", snapshot.Backend), new KeyValuePair<string, object?>("state", ServerStates.Name(state)));
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
