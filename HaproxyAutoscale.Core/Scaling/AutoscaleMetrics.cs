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
    private readonly Meter _meter;

    public AutoscaleMetrics(Func<IEnumerable<Measurement<long>>> lines, Func<IEnumerable<Measurement<double>>> windowValues, Func<IEnumerable<Measurement<int>>> activeServers, IMeterFactory? factory = null)
    {
        _meter = factory?.Create(AutoscaleMetricsNames.Meter) ?? new Meter(AutoscaleMetricsNames.Meter);
        _meter.CreateObservableCounter("log_lines", lines, "{line}", "Log lines read, unparsed and dropped (tag: outcome).");
        _meter.CreateObservableGauge("window_value_ms", windowValues, "ms", "Each backend's window value (no measurement without samples).");
        _meter.CreateObservableGauge("servers_active", activeServers, "{server}", "Each backend's active servers, warming included.");
        Decisions = _meter.CreateCounter<long>("decisions", "{decision}", "Up and down decisions (tags: backend, action).");
        Actions = _meter.CreateCounter<long>("actions", "{action}", "Completed scaling actions (tags: backend, action).");
        ActionFailures = _meter.CreateCounter<long>("action_failures", "{action}", "Failed warm-ups and commands (tags: backend, action).");
    }

    public Counter<long> Decisions { get; }

    public Counter<long> Actions { get; }

    public Counter<long> ActionFailures { get; }

    public void Dispose() => _meter.Dispose();
}
