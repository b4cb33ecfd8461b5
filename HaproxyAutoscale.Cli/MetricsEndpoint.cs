using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Cli.Http;
using HaproxyAutoscale.Scaling;
using Prometheus;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// Serves the <c>HaproxyAutoscale</c> meter (and the process's own .NET metrics) in Prometheus text format at
/// <c>http://ADDRESS/metrics</c> (GET only; any other path 404, any other method 405): prometheus-net's default registry
/// (process and runtime metrics), then our meter through <see cref="MeterExposition"/> (prometheus-net's meter adapter
/// held ~600 bytes per series, ~160 MB at 10,000 backends), written to the socket as it is made, in chunks of one pooled
/// buffer, its gauges reading one snapshot of the backends per scrape. Served by <see cref="HttpSocketServer"/> (IPv4
/// and IPv6; HttpListener refused IPv6 on Linux and could crash on a connection arriving while it started). Any
/// address: Prometheus scrapes from another host, and the metrics hold nothing secret but backend and server names (as
/// node_exporter's). Writes live on the admin endpoint, which stays on loopback.
/// </summary>
internal sealed class MetricsEndpoint : IAsyncDisposable
{
    /// <summary>How long a client has to send its request line and headers.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long one scrape may take, the client's reading included (Prometheus's own scrape timeout is at most its interval).</summary>
    public static readonly TimeSpan ScrapeDeadline = TimeSpan.FromSeconds(30);

    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private readonly MeterExposition _meter;
    private readonly HttpSocketServer _server;

    private MetricsEndpoint(Socket listening, string meter, TimeSpan requestTimeout, TimeSpan deadline)
    {
        // prometheus-net's own meter adapter stays off: our exposition alone reads meters. The process and
        // event-counter metrics stay.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressProcessMetrics = false, SuppressEventCounters = false, SuppressDebugMetrics = false });
        _meter = new MeterExposition(meter, Buckets);
        _server = new HttpSocketServer(listening, "the metrics endpoint", Handle, (status, message) => Text(status, message), requestTimeout, deadline);
    }

    /// <summary>A histogram's buckets: its advised ones (the lag and pass histograms), prometheus-net's defaults (10 ms × 2^n) otherwise.</summary>
    public static IReadOnlyList<double> Buckets(System.Diagnostics.Metrics.Instrument instrument) =>
        (instrument as System.Diagnostics.Metrics.Histogram<double>)?.Advice?.HistogramBucketBoundaries is { } advised ? [.. advised] : MeterAdapterOptions.DefaultHistogramBuckets;

    /// <summary>
    /// Parses <c>HOST:PORT</c> (a numeric IPv4 or IPv6 address, <c>[::1]:9464</c>) and starts serving <paramref name="meter"/>;
    /// the error says what is wrong.
    /// </summary>
    public static MetricsEndpoint? TryStart(string address, out string? error, TimeSpan? requestTimeout = null, string meter = AutoscaleMetricsNames.Meter)
    {
        if (!IPEndPoint.TryParse(address, out IPEndPoint? endPoint) || endPoint.Port == 0 || !address.Contains(':', StringComparison.Ordinal))
        {
            error = $"--metrics: '{address}' is not HOST:PORT with a numeric address, e.g. 127.0.0.1:9464 or [::1]:9464";
            return null;
        }

        var listening = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                listening.DualMode = true; // [::]: every interface, IPv4 too (as 0.0.0.0 and :: together)
            }

            listening.Bind(endPoint);
            listening.Listen(HttpSocketServer.MaxConnections);
            error = null;
            return new MetricsEndpoint(listening, meter, requestTimeout ?? RequestTimeout, ScrapeDeadline);
        }
        catch (SocketException e)
        {
            // A port in use or not allowed: say which option and address, as for a bad value.
            listening.Dispose();
            error = $"--metrics: cannot listen on {address}: {e.Message}";
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().ConfigureAwait(false);
        _meter.Dispose();
    }

    private static HttpAnswer Text(int status, string message) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"));

    private Task<HttpAnswer> Handle(HttpRequestHead request, CancellationToken cancellationToken) => Task.FromResult(
        request.Path != "/metrics" ? Text(404, $"no such endpoint: {request.Path} (GET /metrics)")
        : request.Method != "GET" ? Text(405, "use GET") with { Allow = "GET" }
        : new HttpAnswer(200, ContentType, []) { WriteBody = WriteScrapeAsync });

    // One scrape at a time (MeterExposition's: a scrape is ~16 MB of text at 10,000 backends; Prometheus scrapes every 15 s or so).
    private async Task WriteScrapeAsync(Stream body, CancellationToken cancellationToken)
    {
        await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(body, ExpositionFormat.PrometheusText, cancellationToken).ConfigureAwait(false);
        using var writer = new PrometheusTextWriter(body);
        using (AutoscaleMetrics.ShareSnapshots())
        {
            await _meter.WriteAsync(writer, cancellationToken).ConfigureAwait(false);
        }

        writer.Flush();
    }
}
