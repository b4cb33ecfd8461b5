namespace HaproxyAutoscale.Capacity;

/// <summary>
/// A backend's servers as the autoscaler learned them from its own log records (the fit <c>simulate --fit</c> makes,
/// kept up to date): the service time of a request alone on its server, the effective workers per server, whether
/// there is enough to go by, and the requests per second one server takes within the backend's SLO.
/// </summary>
public sealed record LearnedCapacity
{
    /// <summary>The effective requests a server serves at full speed at once (at least 1, not necessarily whole).</summary>
    public double Workers { get; init; }

    /// <summary>
    /// Whether <see cref="Workers"/> was fitted from response times growing with concurrency; <see langword="false"/>:
    /// they never grew, so <see cref="Workers"/> is the highest concurrency seen often enough, a lower bound.
    /// </summary>
    public bool Saturated { get; init; }

    /// <summary>The per-server limit seen in HAProxy's queueing (<c>maxconn</c>), or <see langword="null"/> when no request queued.</summary>
    public int? MaxConn { get; init; }

    /// <summary>The mean server response time (<c>Tr</c>) of requests alone on their server (or nearly, see <see cref="Basis"/>), in milliseconds.</summary>
    public double ServiceMeanMs { get; init; }

    /// <summary>The 95th percentile of that service time, in milliseconds.</summary>
    public double ServiceP95Ms { get; init; }

    /// <summary>The requests the model rests on, old ones weighing less (a half-life of 10 minutes).</summary>
    public double Samples { get; init; }

    /// <summary>
    /// Whether the model is trusted for sizing: at least 100 requests (decayed) alone on their server (or at the lowest
    /// concurrencies that give 100), and response times at three concurrencies or more with 20 requests each.
    /// </summary>
    public bool Confident { get; init; }

    /// <summary>What the model rests on, or what it lacks, in one line.</summary>
    public string Basis { get; init; } = "";

    /// <summary>When the model last changed: a refit that changes none of its figures (its samples by less than 25 %) keeps it as it was.</summary>
    public DateTimeOffset Updated { get; init; }

    /// <summary>When the service time last moved and the model started again from the recent requests, or <see langword="null"/>.</summary>
    public DateTimeOffset? DriftedAt { get; init; }

    /// <summary>That move, e.g. <c>service time 40 ms → 81 ms</c>, or <see langword="null"/>.</summary>
    public string? Drift { get; init; }

    /// <summary>The p95 the throughput is for, in milliseconds: the backend's <c>slo.p95</c>, or 200 ms (twice <see cref="ServiceP95Ms"/> if more).</summary>
    public double SloP95Ms { get; init; }

    /// <summary>Requests per second one server takes with its p95 within <see cref="SloP95Ms"/> (W workers fed from one queue, M/M/W).</summary>
    public double PerServerAtSlo { get; init; }

    /// <summary>Whether the service time alone is fast enough for the SLO (if not, <see cref="PerServerAtSlo"/> is at half the workers busy).</summary>
    public bool SloReachable { get; init; } = true;
}
