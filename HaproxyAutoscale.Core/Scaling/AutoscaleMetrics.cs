using System.Diagnostics.Metrics;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The engine's instruments on the <c>HaproxyAutoscale</c> meter (no exporter here: the CLI or the host chooses one).
/// </summary>
internal sealed class AutoscaleMetrics : IDisposable
{
    public const string MeterName = "HaproxyAutoscale";

    private readonly Meter _meter;

    public AutoscaleMetrics(Func<IEnumerable<Measurement<long>>> lines, Func<IEnumerable<Measurement<double>>> windowValues, Func<IEnumerable<Measurement<int>>> activeServers, IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableCounter("haproxy_autoscale.log.lines", lines, "{line}", "Log lines read, unparsed and dropped (tag: outcome).");
        _meter.CreateObservableGauge("haproxy_autoscale.window.value", windowValues, "ms", "Each backend's window value (no measurement without samples).");
        _meter.CreateObservableGauge("haproxy_autoscale.servers.active", activeServers, "{server}", "Each backend's active servers, warming included.");
        Decisions = _meter.CreateCounter<long>("haproxy_autoscale.decisions", "{decision}", "Up and down decisions (tags: backend, action).");
        Actions = _meter.CreateCounter<long>("haproxy_autoscale.actions", "{action}", "Completed scaling actions (tags: backend, action).");
        ActionFailures = _meter.CreateCounter<long>("haproxy_autoscale.action.failures", "{action}", "Failed warm-ups and commands (tags: backend, action).");
    }

    public Counter<long> Decisions { get; }

    public Counter<long> Actions { get; }

    public Counter<long> ActionFailures { get; }

    public void Dispose() => _meter.Dispose();
}
