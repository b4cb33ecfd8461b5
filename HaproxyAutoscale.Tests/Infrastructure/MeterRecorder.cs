using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>
/// A meter factory for one autoscaler and a listener on its meters only (tests run in parallel, each autoscaler
/// with a meter of the same name): <see cref="Latest"/> reads a gauge as an exporter would.
/// </summary>
internal sealed class MeterRecorder : IMeterFactory
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Instrument, string Backend), double> _latest = new();
    private readonly ConcurrentDictionary<(string Instrument, string Tag), long> _totals = new();

    public MeterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, this))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            Record(instrument, value, tags);
            if (instrument is Counter<long>)
            {
                foreach (KeyValuePair<string, object?> tag in tags)
                {
                    _totals.AddOrUpdate((instrument.Name, $"{tag.Key}={tag.Value}"), value, (_, total) => total + value);
                }
            }
        });
        _listener.Start();
    }

    public Meter Create(MeterOptions options) => new(options.Name, options.Version, options.Tags, scope: this);

    /// <summary>Collects the observable instruments now and returns the gauge's value for the backend, if it reported one.</summary>
    public double? Latest(string instrument, string backend)
    {
        _latest.Clear();
        _listener.RecordObservableInstruments();
        return _latest.TryGetValue((instrument, backend), out double value) ? value : null;
    }

    /// <summary>What a counter (not an observable one) added so far with the tag <c>key=value</c> (e.g. <c>outcome=applied</c>).</summary>
    public long Total(string instrument, string tag) => _totals.GetValueOrDefault((instrument, tag));

    public void Dispose() => _listener.Dispose();

    // A measurement without a backend tag (a per-process gauge such as leader) is kept under the backend "".
    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            _latest[(instrument.Name, "")] = value;
        }

        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "backend" && tag.Value is string backend)
            {
                _latest[(instrument.Name, backend)] = value;
            }
        }
    }
}
