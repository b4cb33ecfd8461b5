using System.Net;
using Prometheus;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// Serves the <c>HaproxyAutoscale</c> meter (and the process's own .NET metrics) in Prometheus text format at
/// <c>http://ADDRESS/metrics</c>, through prometheus-net's listener. Any address: Prometheus scrapes from another host,
/// and the metrics hold nothing secret but backend and server names (as node_exporter's). Writes live on the admin
/// endpoint, which stays on loopback.
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    private readonly MetricServer _server;
    private readonly IDisposable _meterAdapter;

    private MetricsEndpoint(IPEndPoint endPoint)
    {
        // prometheus-net also starts its own adapter for every meter at the first scrape: it would add each of our
        // measurements a second time to the same series (two reloads exported as 4). Ours alone listens to meters;
        // the process and event-counter metrics stay.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressProcessMetrics = false, SuppressEventCounters = false, SuppressDebugMetrics = false });
        _meterAdapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            InstrumentFilterPredicate = instrument => instrument.Meter.Name == Scaling.AutoscaleMetricsNames.Meter,
            // prometheus-net drops a series not updated for 5 minutes by default: a histogram would come back with a
            // count of 1 after a quiet spell, which rate() reads as no change. The series are per backend (few): kept
            // for the longest it accepts. (The engine adds 0 to its counters every minute: they stay.)
            MetricsExpireAfter = TimeSpan.FromDays(1),
            // prometheus-net ignores the instruments' advice by itself: its default buckets (10 ms × 2^n) are read from
            // it, so the lag histograms get buckets of a fraction of a second to minutes.
            ResolveHistogramBuckets = instrument => (instrument as System.Diagnostics.Metrics.Histogram<double>)?.Advice?.HistogramBucketBoundaries is { } advised
                ? [.. advised]
                : MeterAdapterOptions.DefaultHistogramBuckets,
        });
        // HttpListener matches requests by the prefix's host: "+" accepts any Host header (needed for 0.0.0.0).
        string host = endPoint.Address.Equals(IPAddress.Any) ? "+" : endPoint.Address.ToString();
        _server = new MetricServer(host, endPoint.Port);
        try
        {
            _server.Start();
        }
        catch
        {
            _server.Dispose();
            _meterAdapter.Dispose();
            throw;
        }
    }

    /// <summary>Parses <c>HOST:PORT</c> (a numeric address) and starts serving; the error says what is wrong.</summary>
    public static MetricsEndpoint? TryStart(string address, out string? error)
    {
        if (!IPEndPoint.TryParse(address, out IPEndPoint? endPoint) || endPoint.Port == 0 || !address.Contains(':', StringComparison.Ordinal))
        {
            error = $"--metrics: '{address}' is not HOST:PORT with a numeric address, e.g. 127.0.0.1:9464";
            return null;
        }

        if (endPoint.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            // .NET's HttpListener on Linux fails on IPv6 literal prefixes ("Invalid port in prefix").
            error = $"--metrics: '{address}' is an IPv6 address, which the metrics listener cannot bind; use an IPv4 address or 0.0.0.0:PORT";
            return null;
        }

        try
        {
            error = null;
            return new MetricsEndpoint(endPoint);
        }
        catch (HttpListenerException e)
        {
            // A port in use or not allowed: say which option and address, as for a bad value.
            error = $"--metrics: cannot listen on {address}: {e.Message}";
            return null;
        }
    }

    public void Dispose()
    {
        _server.Dispose();
        _meterAdapter.Dispose();
    }
}
