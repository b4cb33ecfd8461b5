using System.Net;
using Prometheus;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// Serves the <c>HaproxyAutoscale</c> meter (and the process's own .NET metrics) in Prometheus text format at
/// <c>http://ADDRESS/metrics</c>: prometheus-net's default registry (process and runtime metrics), then our meter
/// through <see cref="MeterExposition"/> (prometheus-net's meter adapter held ~600 bytes per series, ~160 MB at 10,000
/// backends). Any address: Prometheus scrapes from another host, and the metrics hold nothing secret but backend and
/// server names (as node_exporter's). Writes live on the admin endpoint, which stays on loopback.
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private readonly HttpListener _listener = new();
    private readonly MeterExposition _meter;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private MetricsEndpoint(IPEndPoint endPoint)
    {
        // prometheus-net's own meter adapter stays off: our exposition alone reads meters. The process and
        // event-counter metrics stay.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true, SuppressProcessMetrics = false, SuppressEventCounters = false, SuppressDebugMetrics = false });
        // The instruments' advised buckets (the lag and pass histograms); prometheus-net's defaults (10 ms × 2^n) otherwise.
        _meter = new MeterExposition(Scaling.AutoscaleMetricsNames.Meter, instrument => (instrument as System.Diagnostics.Metrics.Histogram<double>)?.Advice?.HistogramBucketBoundaries is { } advised
            ? [.. advised]
            : MeterAdapterOptions.DefaultHistogramBuckets);
        // HttpListener matches requests by the prefix's host: "+" accepts any Host header (needed for 0.0.0.0).
        string host = endPoint.Address.Equals(IPAddress.Any) ? "+" : endPoint.Address.ToString();
        _listener.Prefixes.Add($"http://{host}:{endPoint.Port}/metrics/");
        try
        {
            _listener.Start();
        }
        catch
        {
            _listener.Close();
            _meter.Dispose();
            throw;
        }

        _serving = Task.Run(ServeAsync);
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
        _stop.Cancel();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
        _meter.Dispose();
        _stop.Dispose();
    }

    // One scrape at a time (a scrape is a few MB of text at 10,000 backends; Prometheus scrapes every 15 s or so).
    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // closed
            }

            try
            {
                context.Response.ContentType = ContentType;
                context.Response.StatusCode = 200;
                Stream output = context.Response.OutputStream;
                await Metrics.DefaultRegistry.CollectAndExportAsTextAsync(output, ExpositionFormat.PrometheusText, _stop.Token).ConfigureAwait(false);
                using var writer = new PrometheusTextWriter(output);
                await _meter.WriteAsync(writer, _stop.Token).ConfigureAwait(false);
                writer.Flush();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // The scraper went away, we are stopping, or an instrument's callback threw (the runtime gathers
                // those into one exception): this scrape ends short, the next request is served anew.
                TrySetStatus(context.Response, 500);
            }
            finally
            {
                try
                {
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                {
                    // Already gone.
                }
            }
        }
    }

    // Too late once the body started: the status line went out with the first bytes.
    private static void TrySetStatus(HttpListenerResponse response, int status)
    {
        try
        {
            response.StatusCode = status;
        }
        catch (InvalidOperationException)
        {
            // The headers went out: the client sees the answer end short.
        }
    }
}
