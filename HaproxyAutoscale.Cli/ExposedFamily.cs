using System.Buffers;
using System.Diagnostics.Metrics;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// One Prometheus family of <see cref="MeterExposition"/>: the instruments of its name. A counter's series keep their
/// sum, a histogram's its bucket counts; an observable instrument's series are not kept: the family's own listener
/// observes them while <see cref="Write"/> writes, each measurement straight to the writer.
/// </summary>
internal sealed class ExposedFamily : IDisposable
{
    private readonly string _name;
    private readonly string _help;
    private readonly double[]? _bounds; // a histogram's upper bounds (+Inf implied); null for a gauge
    private readonly string[]? _les;
    private readonly Lock _lock = new();
    private readonly Dictionary<string[], double> _sums = new(LabelsComparer.Instance);
    private readonly Dictionary<string[], HistogramSlot> _histograms = new(LabelsComparer.Instance);
    private readonly MeterListener _observer = new();
    private PrometheusTextWriter? _writer; // set while Write observes
    private bool _headerDue;

    public ExposedFamily(string meter, string name, string help, double[]? bounds)
    {
        (_name, _help, _bounds) = (name, help, bounds);
        _les = bounds is null ? null : [.. bounds.Select(PrometheusTextWriter.Format), "+Inf"];
        _observer.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.IsObservable && instrument.Meter.Name == meter && SeriesLabels.FamilyName(instrument) == name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _observer.SetMeasurementEventCallback<byte>((_, m, t, _) => Observed(m, t));
        _observer.SetMeasurementEventCallback<short>((_, m, t, _) => Observed(m, t));
        _observer.SetMeasurementEventCallback<int>((_, m, t, _) => Observed(m, t));
        _observer.SetMeasurementEventCallback<long>((_, m, t, _) => Observed(m, t));
        _observer.SetMeasurementEventCallback<float>((_, m, t, _) => Observed(m, t));
        _observer.SetMeasurementEventCallback<double>((_, m, t, _) => Observed(m, t));
        _observer.SetMeasurementEventCallback<decimal>((_, m, t, _) => Observed((double)m, t));
        _observer.Start();
    }

    /// <summary>A counter's increment or a histogram's observation.</summary>
    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string[] labels = new string[tags.Length * 2];
        SeriesLabels.Fill(tags, labels);
        lock (_lock)
        {
            if (_bounds is null)
            {
                _sums[labels] = _sums.GetValueOrDefault(labels) + value;
                return;
            }

            if (!_histograms.TryGetValue(labels, out HistogramSlot? slot))
            {
                _histograms.Add(labels, slot = new HistogramSlot(new long[_bounds.Length + 1]));
            }

            int bucket = 0;
            while (bucket < _bounds.Length && value > _bounds[bucket])
            {
                bucket++;
            }

            slot.Counts[bucket]++;
            slot.Sum += value;
        }
    }

    /// <summary>Writes the family (HELP and TYPE before its first series; nothing without one). One scrape at a time.</summary>
    public void Write(PrometheusTextWriter writer)
    {
        _headerDue = true;
        if (_bounds is null)
        {
            WriteSums(writer);
            _writer = writer;
            try
            {
                _observer.RecordObservableInstruments();
            }
            catch (Exception e) when (e is not OutOfMemoryException && !writer.Failed)
            {
                // An instrument's callback threw (the runtime gathers those into one exception): what it did not
                // measure is left out of this scrape, the other families are written.
            }
            finally
            {
                _writer = null;
            }

            return;
        }

        KeyValuePair<string[], HistogramSlot>[] histograms;
        lock (_lock)
        {
            histograms = [.. _histograms.Select(h => KeyValuePair.Create(h.Key, h.Value.Copy()))];
        }

        foreach ((string[] labels, HistogramSlot slot) in histograms)
        {
            Header(writer);
            writer.Sample(_name, "_sum", labels, null, null, slot.Sum);
            writer.Sample(_name, "_count", labels, null, null, slot.Counts.Sum());
            long cumulative = 0;
            for (int i = 0; i < slot.Counts.Length; i++)
            {
                writer.Sample(_name, "_bucket", labels, "le", _les![i], cumulative += slot.Counts[i]);
            }
        }
    }

    public void Dispose() => _observer.Dispose();

    private void WriteSums(PrometheusTextWriter writer)
    {
        int count;
        KeyValuePair<string[], double>[] sums;
        lock (_lock)
        {
            count = _sums.Count;
            sums = ArrayPool<KeyValuePair<string[], double>>.Shared.Rent(Math.Max(count, 1));
            ((ICollection<KeyValuePair<string[], double>>)_sums).CopyTo(sums, 0);
        }

        // Written outside the lock: a slow scraper must not hold up the engine's counters.
        for (int i = 0; i < count; i++)
        {
            Header(writer);
            writer.Sample(_name, null, sums[i].Key, null, null, sums[i].Value);
        }

        ArrayPool<KeyValuePair<string[], double>>.Shared.Return(sums, clearArray: true);
    }

    private void Observed(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_writer is { } writer)
        {
            Header(writer);
            writer.Sample(_name, tags, value);
        }
    }

    private void Header(PrometheusTextWriter writer)
    {
        if (_headerDue)
        {
            _headerDue = false;
            writer.Family(_name, _help, _bounds is null ? "gauge" : "histogram");
        }
    }

    private sealed class HistogramSlot(long[] counts)
    {
        public long[] Counts { get; } = counts;

        public double Sum { get; set; }

        public HistogramSlot Copy() => new([.. Counts]) { Sum = Sum };
    }

    private sealed class LabelsComparer : IEqualityComparer<string[]>
    {
        public static LabelsComparer Instance { get; } = new();

        public bool Equals(string[]? x, string[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(string[] labels)
        {
            var hash = default(HashCode);
            foreach (string label in labels)
            {
                hash.Add(label);
            }

            return hash.ToHashCode();
        }
    }
}
