using System.Runtime.InteropServices;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// How the servers of each backend respond, as the simulator plays them: a service-time distribution, how latency grows
/// with concurrency, the per-server <c>maxconn</c> and the cold start. Fitted from a HAProxy log by
/// <see cref="ServerModelFitter"/>, written and read as JSON by <see cref="ServerModelJson"/> (edit the file to
/// override what the log cannot show, such as the cold start).
/// </summary>
internal sealed class ServerModel
{
    /// <summary>One model per backend; backend names are unique.</summary>
    public IList<BackendModel> Backends { get; } = [];

    /// <summary>The model of <paramref name="backend"/> (HAProxy names are case-sensitive), or <see langword="null"/>.</summary>
    public BackendModel? Find(string backend)
    {
        foreach (BackendModel model in Backends)
        {
            if (string.Equals(model.Backend, backend, StringComparison.Ordinal))
            {
                return model;
            }
        }

        return null;
    }
}

/// <summary>
/// The servers of one backend, all alike. A request's service time is drawn from
/// <see cref="ServiceTimeQuantilesMs"/>, the response time HAProxy logged (<c>Tr</c>) for requests that met few others
/// on their server; a server then behaves like a processor shared by <see cref="Workers"/> effective workers: a request
/// served while <c>c</c> requests are on its server takes <c>service × max(1, c / Workers)</c>
/// (<see cref="LatencyMs"/>).
/// </summary>
/// <remarks>
/// The model assumes that a request's service time does not depend on the request (no slow URLs, no caching effects:
/// every request draws from the same distribution), that the servers are alike, and that latency grows with
/// concurrency as processor sharing does. Requests beyond <see cref="MaxConn"/> wait in HAProxy's queue. The cold
/// start never shows in a log: <see cref="ColdStartMs"/> is what the fit was given (0 unless told).
/// </remarks>
internal sealed class BackendModel
{
    private readonly List<double> _quantiles = [];

    /// <summary>The HAProxy backend name.</summary>
    public string Backend { get; set; } = "";

    /// <summary>
    /// The service-time distribution in milliseconds as 101 quantiles, p0 (the fastest) to p100 (the slowest),
    /// non-decreasing: the logged <c>Tr</c> of requests served at low concurrency.
    /// </summary>
    public IList<double> ServiceTimeQuantilesMs => _quantiles;

    /// <summary>
    /// The effective number of requests a server serves at full speed at once (k, at least 1, not necessarily whole):
    /// beyond it, every request on the server slows down in proportion. <value>The default is 1.</value>
    /// </summary>
    public double Workers { get; set; } = 1;

    /// <summary>
    /// The per-server <c>maxconn</c>: requests beyond it wait in HAProxy's queue. <see langword="null"/> when the log
    /// showed no queueing (no request with <c>Tw</c> &gt; 0), so no limit is known.
    /// </summary>
    public int? MaxConn { get; set; }

    /// <summary>The time in milliseconds a cold server's first request takes on top of its service time. <value>The default is 0.</value></summary>
    public double ColdStartMs { get; set; }

    /// <summary>Seconds without a request after which a server is cold again. <value>The default is 300.</value></summary>
    public double IdleToColdS { get; set; } = 300;

    /// <summary>How many log lines the fit used for this backend (0 for a model written by hand).</summary>
    public long FittedRequests { get; set; }

    /// <summary>
    /// Draws a service time: the inverse of the distribution at <paramref name="uniform01"/> (0 gives p0, 1 gives p100),
    /// interpolating linearly between neighbouring quantiles.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="ServiceTimeQuantilesMs"/> is empty.</exception>
    public double SampleServiceMs(double uniform01)
    {
        ReadOnlySpan<double> q = CollectionsMarshal.AsSpan(_quantiles);
        if (q.Length == 0)
        {
            throw new InvalidOperationException($"Backend '{Backend}' has no service-time quantiles.");
        }

        double position = Math.Clamp(uniform01, 0, 1) * (q.Length - 1);
        int index = (int)position;
        if (index >= q.Length - 1)
        {
            return q[^1];
        }

        return q[index] + ((q[index + 1] - q[index]) * (position - index));
    }

    /// <summary>
    /// The time in milliseconds a request of <paramref name="serviceMs"/> takes while <paramref name="concurrency"/>
    /// requests (itself included) are on its server: <c>service × max(1, concurrency / Workers)</c>.
    /// </summary>
    public double LatencyMs(double serviceMs, int concurrency) => serviceMs * Math.Max(1, concurrency / Workers);
}
