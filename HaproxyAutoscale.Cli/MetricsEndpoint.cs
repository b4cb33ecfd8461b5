using System.Net;
using Prometheus;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// Serves the <c>HaproxyAutoscale</c> meter (and the process's own .NET metrics) in Prometheus text format at
/// <c>http://ADDRESS/metrics</c>, through prometheus-net's listener. Loopback addresses only: the endpoint has no
/// authentication, and whoever reaches it learns the backend and server names.
/// </summary>
internal sealed class MetricsEndpoint : IDisposable
{
    private readonly MetricServer _server;
    private readonly IDisposable _meterAdapter;

    private MetricsEndpoint(IPEndPoint endPoint)
    {
        _meterAdapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            InstrumentFilterPredicate = instrument => instrument.Meter.Name == Scaling.AutoscaleMetricsNames.Meter,
        });
        _server = new MetricServer(endPoint.Address.ToString(), endPoint.Port);
        _server.Start();
    }

    /// <summary>Parses <c>HOST:PORT</c> (loopback only) and starts serving; the error says what is wrong.</summary>
    public static MetricsEndpoint? TryStart(string address, out string? error)
    {
        if (!IPEndPoint.TryParse(address, out IPEndPoint? endPoint) || endPoint.Port == 0 || !address.Contains(':', StringComparison.Ordinal))
        {
            error = $"--metrics: '{address}' is not HOST:PORT with a numeric address, e.g. 127.0.0.1:9464";
            return null;
        }

        if (!IPAddress.IsLoopback(endPoint.Address))
        {
            error = $"--metrics: '{address}' is not a loopback address; the metrics endpoint has no authentication";
            return null;
        }

        error = null;
        return new MetricsEndpoint(endPoint);
    }

    public void Dispose()
    {
        _server.Dispose();
        _meterAdapter.Dispose();
    }
}
