using System.Globalization;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// What the log says about one backend, aggregated as lines arrive in constant memory: per concurrency the count and
/// sum of <c>Tr</c>, and a latency histogram for each low concurrency (allocated when seen).
/// <see cref="Fit"/> turns it into a <see cref="BackendModel"/>.
/// </summary>
/// <remarks>
/// HAProxy 2.x logs <c>srv_conn</c> after the request released its server (a request alone on its server logs 0, and
/// with <c>maxconn 4</c> the largest value logged is 3): a request's concurrency, itself included, is
/// <c>srv_conn + 1</c>.
/// </remarks>
internal sealed class BackendFit
{
    /// <summary>Lines with at least this many requests wanted for the service-time distribution before widening.</summary>
    internal const int MinServiceSamples = 100;

    /// <summary>A <c>srv_conn</c> value enters the fit of the workers with at least this many lines.</summary>
    internal const int MinBucketSamples = 20;

    /// <summary>The service time is taken from requests with a concurrency below this (one histogram per value).</summary>
    internal const int LowConcurrencyLimit = 256;

    /// <summary>Concurrencies above this are counted as this.</summary>
    internal const int MaxTrackedConcurrency = 1 << 16;

    // A concurrency logged by fewer than this share of the queued requests does not count for maxConn.
    private const double MaxConnMinShare = 0.05;

    // 5 % of a chi-square with one degree of freedom: the growth with srv_conn must explain more than noise would.
    private const double GrowthSignificance = 3.84;

    private readonly LatencyHistogram?[] _lowHistograms = new LatencyHistogram?[LowConcurrencyLimit];
    private readonly int[] _lowMax = new int[LowConcurrencyLimit];
    private long[] _counts = new long[64];
    private long[] _sums = new long[64];
    private long[] _queuedCounts = new long[64];
    private long _queuedLines;
    private int _maxTrConcurrency;

    public BackendFit(string backend) => Backend = backend;

    public string Backend { get; }

    public long TcpLines { get; private set; }

    public long HttpLines { get; private set; }

    /// <summary>Lines that reached a server (not <c>&lt;NOSRV&gt;</c>).</summary>
    public long ServerLines { get; private set; }

    /// <summary>HTTP lines that reached a server.</summary>
    public long HttpServerLines { get; private set; }

    /// <summary>HTTP lines with a server and a response time (<c>Tr</c> ≥ 0): the lines the fit uses.</summary>
    public long TrLines { get; private set; }

    /// <summary>The largest concurrency (<c>srv_conn + 1</c>) on any line that reached a server.</summary>
    public int MaxConcurrency { get; private set; }

    /// <summary>Whether a line that reached a server waited in a queue (<c>Tw</c> &gt; 0).</summary>
    public bool Queued => _queuedLines > 0;

    public void Add(in RequestRecord record)
    {
        if (record.Kind == RequestKind.Tcp)
        {
            TcpLines++;
        }
        else
        {
            HttpLines++;
        }

        if (record.HasNoServer)
        {
            return;
        }

        ServerLines++;
        if (record.Kind == RequestKind.Http)
        {
            HttpServerLines++;
        }

        int concurrency = Math.Clamp(record.ServerConnections, 0, MaxTrackedConcurrency - 1) + 1;
        if (concurrency > MaxConcurrency)
        {
            MaxConcurrency = concurrency;
        }

        if (record.QueueTime > 0)
        {
            _queuedLines++;
            if (concurrency >= _queuedCounts.Length)
            {
                Array.Resize(ref _queuedCounts, Math.Min(MaxTrackedConcurrency + 1, Math.Max(concurrency + 1, _queuedCounts.Length * 2)));
            }

            _queuedCounts[concurrency]++;
        }

        int tr = record.ResponseTime;
        if (record.Kind != RequestKind.Http || tr < 0)
        {
            return;
        }

        TrLines++;
        if (concurrency >= _counts.Length)
        {
            int length = Math.Min(MaxTrackedConcurrency + 1, Math.Max(concurrency + 1, _counts.Length * 2));
            Array.Resize(ref _counts, length);
            Array.Resize(ref _sums, length);
        }

        _counts[concurrency]++;
        _sums[concurrency] += tr;
        if (concurrency > _maxTrConcurrency)
        {
            _maxTrConcurrency = concurrency;
        }

        if (concurrency < LowConcurrencyLimit)
        {
            (_lowHistograms[concurrency] ??= new LatencyHistogram()).Add(tr);
            if (tr > _lowMax[concurrency])
            {
                _lowMax[concurrency] = tr;
            }
        }
    }

    /// <summary>
    /// The model, or <see langword="null"/>: with the reason added to <paramref name="errors"/>, or to
    /// <paramref name="notes"/> when no request reached a server (a frontend's <c>&lt;BADREQ&gt;</c> lines).
    /// </summary>
    public BackendModel? Fit(double coldStartMs, double idleToColdS, List<string> errors, List<string> notes)
    {
        if (ServerLines == 0)
        {
            notes.Add(Invariant($"backend '{Backend}': left out, none of its {TcpLines + HttpLines} lines reached a server (<NOSRV>)"));
            return null;
        }

        if (TrLines == 0)
        {
            errors.Add(HttpServerLines == 0
                ? Invariant($"backend '{Backend}': its {ServerLines} log lines are tcplog lines, which carry no server response time (Tr), so its service time is unknown; log it as HTTP: 'mode http' with 'option httplog' in haproxy.cfg")
                : Invariant($"backend '{Backend}': none of its {HttpServerLines} requests has a server response time (Tr is -1 on every line: no server answered), so its service time is unknown"));
            return null;
        }

        var model = new BackendModel
        {
            Backend = Backend,
            ColdStartMs = coldStartMs,
            IdleToColdS = idleToColdS,
            FittedRequests = TrLines,
        };
        if (!FitServiceTime(model, notes, out double meanLow))
        {
            errors.Add(Invariant($"backend '{Backend}': every one of its requests met at least {LowConcurrencyLimit - 1} others on its server (srv_conn), so its service time alone is unknown"));
            return null;
        }

        if (Queued)
        {
            model.MaxConn = FitMaxConn();
            notes.Add(Invariant($"backend '{Backend}': requests waited in a queue (Tw > 0): maxConn set to {model.MaxConn}, the largest concurrency (srv_conn + 1) the queued requests logged"));
        }

        FitWorkers(model, meanLow, notes);

        return model;
    }

    // The largest concurrency logged by at least MaxConnMinShare of the queued requests. A queued request logs the
    // others on its server, at most maxconn - 1, except when the next request in the queue took the freed place before
    // the line was written (HAProxy 2.6 does that for a few lines in a hundred): such rare values are not the limit.
    private int FitMaxConn()
    {
        for (int c = _queuedCounts.Length - 1; c > 0; c--)
        {
            if (_queuedCounts[c] >= MaxConnMinShare * _queuedLines)
            {
                return c;
            }
        }

        return 1;
    }

    // The quantiles of Tr over the requests with concurrency ≤ limit: limit 1 (a request alone on its server, srv_conn
    // 0), raised until at least MinServiceSamples requests are in.
    private bool FitServiceTime(BackendModel model, List<string> notes, out double meanLow)
    {
        long count = 0, sum = 0;
        int limit = -1, max = 0;
        int last = Math.Min(_maxTrConcurrency, LowConcurrencyLimit - 1);
        for (int c = 0; c <= last && (c <= 1 || count < MinServiceSamples); c++)
        {
            count += _counts[c];
            sum += _sums[c];
            max = Math.Max(max, _lowMax[c]);
            limit = c;
        }

        meanLow = 0;
        if (count == 0)
        {
            return false;
        }

        var merged = new LatencyHistogram();
        for (int c = 0; c <= limit; c++)
        {
            if (_lowHistograms[c] is { } histogram)
            {
                merged.Add(histogram);
            }
        }

        for (int p = 0; p <= 100; p++)
        {
            model.ServiceTimeQuantilesMs.Add(merged.Percentile(p, count, max));
        }

        meanLow = (double)sum / count;
        if (limit > 1)
        {
            notes.Add(Invariant($"backend '{Backend}': service time from the {count} requests logged with srv_conn <= {limit - 1} (only {_counts[1]} were alone on their server, srv_conn 0)"));
        }
        else if (count < MinServiceSamples)
        {
            notes.Add(Invariant($"backend '{Backend}': service time from only {count} requests: its quantiles are rough"));
        }

        return true;
    }

    // Least squares of the mean Tr per concurrency c (those with MinBucketSamples lines) against meanLow × max(1, c / k),
    // relative residuals weighted by the line count. Without significant growth the log shows no limit: k is the
    // largest concurrency seen.
    private void FitWorkers(BackendModel model, double meanLow, List<string> notes)
    {
        var buckets = new List<(int C, long N, double Mean)>();
        for (int c = 0; c <= _maxTrConcurrency; c++)
        {
            if (_counts[c] >= MinBucketSamples)
            {
                buckets.Add((c, _counts[c], (double)_sums[c] / _counts[c]));
            }
        }

        // Never more workers than maxconn lets in.
        double unsaturated = Math.Min(MaxConcurrency, model.MaxConn ?? int.MaxValue);
        if (buckets.Count < 2 || meanLow <= 0)
        {
            model.Workers = unsaturated;
            notes.Add(Invariant($"backend '{Backend}': too few srv_conn values with {MinBucketSamples}+ requests (or a zero service time) to see how latency grows with concurrency; workers set to the largest concurrency logged (srv_conn + 1, at most maxConn), {model.Workers}: the log shows no limit below it"));
            return;
        }

        int top = buckets[^1].C;
        double Error(double k)
        {
            double error = 0;
            foreach ((int c, long n, double mean) in buckets)
            {
                double r = (mean / (meanLow * Math.Max(1, c / k))) - 1;
                error += n * r * r;
            }

            return error;
        }

        double best = top, bestError = Error(top);
        for (double k = 1; k < top; k *= 1.01)
        {
            double error = Error(k);
            if (error < bestError)
            {
                (best, bestError) = (k, error);
            }
        }

        // Golden-section search around the best grid point.
        double lo = Math.Max(1, best / 1.01), hi = Math.Min(top, best * 1.01);
        const double Ratio = 0.6180339887498949;
        for (int i = 0; i < 40; i++)
        {
            double a = hi - (Ratio * (hi - lo)), b = lo + (Ratio * (hi - lo));
            if (Error(a) <= Error(b))
            {
                hi = b;
            }
            else
            {
                lo = a;
            }
        }

        double refined = (lo + hi) / 2;
        if (Error(refined) < bestError)
        {
            (best, bestError) = (refined, Error(refined));
        }

        double gain = Error(top) - bestError;
        double noise = bestError / (buckets.Count - 1);
        if (best < top && gain > 0 && gain > GrowthSignificance * noise)
        {
            model.Workers = Math.Round(Math.Max(1, best), 3);
            return;
        }

        model.Workers = unsaturated;
        notes.Add(Invariant($"backend '{Backend}': response time does not grow with srv_conn up to {top - 1} (never saturated in this log); workers set to the largest concurrency logged (srv_conn + 1, at most maxConn), {model.Workers}: the log shows no limit below it"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
