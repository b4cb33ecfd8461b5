using System.Diagnostics.Metrics;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// One meter's instruments in Prometheus text format, in the shape prometheus-net's meter adapter gave them (same
/// names, HELP, TYPE, labels and buckets) at a fraction of its memory: observable instruments are observed while the
/// scrape writes them, straight into the response (nothing kept between scrapes: at 10,000 backends ~240,000 series
/// that prometheus-net held at ~600 bytes each); counters and histograms keep one small slot per series.
/// Counters are exported as gauges (as prometheus-net does: an instrument may be re-created and start again at 0).
/// </summary>
internal sealed class MeterExposition : IDisposable
{
    private readonly string _meter;
    private readonly Func<Instrument, IReadOnlyList<double>> _buckets;
    private readonly MeterListener _listener = new();
    private readonly Lock _lock = new();
    private readonly List<ExposedFamily> _families = []; // in the order their first instrument was published
    private readonly Dictionary<string, ExposedFamily> _byName = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _scrape = new(1, 1); // one scrape at a time: observable callbacks write to its writer

    public MeterExposition(string meter, Func<Instrument, IReadOnlyList<double>> buckets)
    {
        _meter = meter;
        _buckets = buckets;
        _listener.InstrumentPublished = OnPublished;
        _listener.SetMeasurementEventCallback<byte>((i, m, t, s) => Record(i, m, t, s));
        _listener.SetMeasurementEventCallback<short>((i, m, t, s) => Record(i, m, t, s));
        _listener.SetMeasurementEventCallback<int>((i, m, t, s) => Record(i, m, t, s));
        _listener.SetMeasurementEventCallback<long>((i, m, t, s) => Record(i, m, t, s));
        _listener.SetMeasurementEventCallback<float>((i, m, t, s) => Record(i, m, t, s));
        _listener.SetMeasurementEventCallback<double>((i, m, t, s) => Record(i, m, t, s));
        _listener.SetMeasurementEventCallback<decimal>((i, m, t, s) => Record(i, (double)m, t, s));
        _listener.Start();
    }

    /// <summary>Writes every family that has a series: stored ones as they are, observable ones as observed now.</summary>
    public async Task WriteAsync(PrometheusTextWriter writer, CancellationToken cancellationToken)
    {
        await _scrape.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ExposedFamily[] families;
            lock (_lock)
            {
                families = [.. _families];
            }

            foreach (ExposedFamily family in families)
            {
                family.Write(writer);
            }
        }
        finally
        {
            _scrape.Release();
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        foreach (ExposedFamily family in _families)
        {
            family.Dispose();
        }

        _scrape.Dispose();
    }

    private void OnPublished(Instrument instrument, MeterListener listener)
    {
        if (instrument.Meter.Name != _meter)
        {
            return;
        }

        string name = SeriesLabels.FamilyName(instrument);
        ExposedFamily family;
        lock (_lock)
        {
            if (!_byName.TryGetValue(name, out family!))
            {
                bool histogram = instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == typeof(Histogram<>);
                family = new ExposedFamily(_meter, name, SeriesLabels.Help(instrument), histogram ? [.. _buckets(instrument)] : null);
                _byName.Add(name, family);
                _families.Add(family);
            }
        }

        if (!instrument.IsObservable) // an observable one is observed by its family's own listener while a scrape writes it
        {
            listener.EnableMeasurementEvents(instrument, family);
        }
    }

    private static void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (state is ExposedFamily family)
        {
            family.Record(value, tags);
        }
    }
}
