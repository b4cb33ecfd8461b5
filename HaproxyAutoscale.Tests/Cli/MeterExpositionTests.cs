using System.Diagnostics.Metrics;
using System.Text;
using HaproxyAutoscale.Cli;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// The metrics endpoint's own exposition of a meter: the text prometheus-net's meter adapter wrote (names, HELP, TYPE,
/// sorted labels, counters as gauges, histograms as _sum, _count and cumulative buckets), each measurement once.
/// A meter name of its own per test: other tests' meters never mix in.
/// </summary>
public sealed class MeterExpositionTests
{
    [Fact]
    public async Task Write_ACounterAddedOnce_ReadsOneAndItsZeroSeries()
    {
        string meterName = $"Exposition.{Guid.NewGuid():N}";
        using var exposition = new MeterExposition(meterName, _ => [1]);
        using var meter = new Meter(meterName);
        Counter<long> decisions = meter.CreateCounter<long>("decisions", "{decision}", "Up and down decisions (tags: backend, action).");
        decisions.Add(0, new("backend", "app"), new("action", "down"));
        decisions.Add(1, new("backend", "app"), new("action", "up"));

        string prefix = meterName.Replace('.', '_').ToLowerInvariant();
        (await ScrapeAsync(exposition)).Should().Be(
            $"# HELP {prefix}_decisions ({{decision}}) Up and down decisions (tags: backend, action). (Counter`1)\n" +
            $"# TYPE {prefix}_decisions gauge\n" +
            $"{prefix}_decisions{{action=\"down\",backend=\"app\"}} 0\n" +
            $"{prefix}_decisions{{action=\"up\",backend=\"app\"}} 1\n");
    }

    [Fact]
    public async Task Write_ObservableGaugesAndAHistogram_AsPrometheusNetWroteThem()
    {
        string meterName = $"Exposition.{Guid.NewGuid():N}";
        using var exposition = new MeterExposition(meterName, _ => [0.1, 2.5]);
        using var meter = new Meter(meterName);
        meter.CreateObservableGauge("in_flight", () => new Measurement<double>[] { new(66.25, new KeyValuePair<string, object?>("backend", "a\"b\\c")) }, "{request}", "In flight.");
        meter.CreateObservableGauge("window_value_ms", () => Array.Empty<Measurement<double>>(), "ms", "No samples, no series.");
        Histogram<double> lag = meter.CreateHistogram<double>("lag_seconds", "s", "Lag.");
        lag.Record(0.05, new KeyValuePair<string, object?>("backend", "app"));
        lag.Record(3, new KeyValuePair<string, object?>("backend", "app"));

        string prefix = meterName.Replace('.', '_').ToLowerInvariant();
        (await ScrapeAsync(exposition)).Should().Be(
            $"# HELP {prefix}_in_flight ({{request}}) In flight. (ObservableGauge`1)\n" +
            $"# TYPE {prefix}_in_flight gauge\n" +
            $"{prefix}_in_flight{{backend=\"a\\\"b\\\\c\"}} 66.25\n" +
            $"# HELP {prefix}_lag_seconds (s) Lag. (Histogram`1)\n" +
            $"# TYPE {prefix}_lag_seconds histogram\n" +
            $"{prefix}_lag_seconds_sum{{backend=\"app\"}} 3.05\n" +
            $"{prefix}_lag_seconds_count{{backend=\"app\"}} 2\n" +
            $"{prefix}_lag_seconds_bucket{{backend=\"app\",le=\"0.1\"}} 1\n" +
            $"{prefix}_lag_seconds_bucket{{backend=\"app\",le=\"2.5\"}} 1\n" +
            $"{prefix}_lag_seconds_bucket{{backend=\"app\",le=\"+Inf\"}} 2\n");
    }

    [Fact]
    public async Task Write_AGaugeWhoseCallbackThrows_LeavesItOutAndWritesTheOthers()
    {
        string meterName = $"Exposition.{Guid.NewGuid():N}";
        using var exposition = new MeterExposition(meterName, _ => [1]);
        using var meter = new Meter(meterName);
        meter.CreateObservableGauge("broken", (Func<int>)(() => throw new InvalidOperationException("a host's bug")), "1", "Throws.");
        meter.CreateObservableGauge("leader", () => 1, "1", "Leads.");

        string prefix = meterName.Replace('.', '_').ToLowerInvariant();
        (await ScrapeAsync(exposition)).Should().Be(
            $"# HELP {prefix}_leader (1) Leads. (ObservableGauge`1)\n" +
            $"# TYPE {prefix}_leader gauge\n" +
            $"{prefix}_leader 1\n");
    }

    [Fact]
    public async Task Write_AutoscaleMetrics_OneSnapshotPerScrape_InTheScopeAndOutside_SameText()
    {
        string meterName = $"Exposition.{Guid.NewGuid():N}";
        using var exposition = new MeterExposition(meterName, _ => [1]);
        DateTimeOffset since = DateTimeOffset.UnixEpoch;
        BackendSnapshot[] snapshots =
        [
            new("app", new WindowValue(120.5, 40), [new("s1", ServerLifecycleState.Active, null, since), new("s2", ServerLifecycleState.Parked, null, since)])
            {
                Coverage = 0.98, Gauges = new EvaluationGauges(2, 1, 8, 3.25), ObjectiveMs = 100,
            },
            new("quiet", WindowValue.Empty, [new("s1", ServerLifecycleState.Stopped, null, since)]) { Blind = true, AtZero = true },
        ];
        int taken = 0;
        using var metrics = new AutoscaleMetrics(() => [], () => { Interlocked.Increment(ref taken); return snapshots; }, new NamedMeters(meterName));

        string alone = await ScrapeAsync(exposition);
        int takenAlone = Interlocked.Exchange(ref taken, 0);
        string shared;
        using (AutoscaleMetrics.ShareSnapshots())
        {
            shared = await ScrapeAsync(exposition);
        }

        shared.Should().Be(alone).And.Contain("_servers_lifecycle{backend=\"app\",state=\"parked\"} 1\n");
        taken.Should().Be(1, "the gauges of one scrape share one snapshot");
        takenAlone.Should().Be(1, "outside the scope (a host's exporter) the gauges read one after another share the last snapshot");

        // Outside the scope a snapshot serves only the gauges read soon after it: the next collection takes its own.
        await Task.Delay(RecentSnapshot.Reuse + TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken);
        Interlocked.Exchange(ref taken, 0);
        (await ScrapeAsync(exposition)).Should().Be(alone);
        taken.Should().Be(1);
    }

    private static async Task<string> ScrapeAsync(MeterExposition exposition)
    {
        using var stream = new MemoryStream();
        using (var writer = new PrometheusTextWriter(stream))
        {
            await exposition.WriteAsync(writer, CancellationToken.None);
            writer.Flush();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private sealed class NamedMeters(string name) : IMeterFactory
    {
        public Meter Create(MeterOptions options) => new(name);

        public void Dispose()
        {
        }
    }
}
