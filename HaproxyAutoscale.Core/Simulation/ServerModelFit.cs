using System.Globalization;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// What the log says about one backend, aggregated as lines arrive in constant memory: per logged <c>srv_conn</c> the
/// count and sum of <c>Tr</c>, and a latency histogram for each low <c>srv_conn</c> value (allocated when seen).
/// <see cref="Fit"/> turns it into a <see cref="BackendModel"/>.
/// </summary>
internal sealed class BackendFit
{
    /// <summary>Lines with at least this many requests wanted for the service-time distribution before widening.</summary>
    internal const int MinServiceSamples = 100;

    /// <summary>A <c>srv_conn</c> value enters the fit of the workers with at least this many lines.</summary>
    internal const int MinBucketSamples = 20;

    /// <summary>The service time is taken from requests with <c>srv_conn</c> below this (one histogram per value).</summary>
    internal const int LowConcurrencyLimit = 256;

    /// <summary><c>srv_conn</c> values above this are counted as this.</summary>
    internal const int MaxTrackedConcurrency = 1 << 16;

    // 5 % of a chi-square with one degree of freedom: the growth with srv_conn must explain more than noise would.
    private const double GrowthSignificance = 3.84;

    private readonly LatencyHistogram?[] _lowHistograms = new LatencyHistogram?[LowConcurrencyLimit];
    private readonly int[] _lowMax = new int[LowConcurrencyLimit];
    private long[] _counts = new long[64];
    private long[] _sums = new long[64];
    private int _maxTrConcurrency;

    public BackendFit(string backend) => Backend = backend;

    public string Backend { get; }

    public long TcpLines { get; private set; }

    public long HttpLines { get; private set; }

    /// <summary>HTTP lines with a server and a response time (<c>Tr</c> ≥ 0): the lines the fit uses.</summary>
    public long TrLines { get; private set; }

    /// <summary>The largest <c>srv_conn</c> on any line that reached a server.</summary>
    public int MaxServerConnections { get; private set; }

    /// <summary>Whether a line that reached a server waited in a queue (<c>Tw</c> &gt; 0).</summary>
    public bool Queued { get; private set; }

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

        int concurrency = Math.Clamp(record.ServerConnections, 0, MaxTrackedConcurrency);
        if (concurrency > MaxServerConnections)
        {
            MaxServerConnections = concurrency;
        }

        if (record.QueueTime > 0)
        {
            Queued = true;
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

    /// <summary>The model, or <see langword="null"/> with the reason added to <paramref name="errors"/>.</summary>
    public BackendModel? Fit(double coldStartMs, double idleToColdS, List<string> errors, List<string> notes)
    {
        if (TrLines == 0)
        {
            errors.Add(HttpLines == 0
                ? $"backend '{Backend}': its {TcpLines} log lines are tcplog lines, which carry no server response time (Tr), so its service time is unknown; log it as HTTP: 'mode http' with 'option httplog' in haproxy.cfg"
                : $"backend '{Backend}': none of its {HttpLines} requests has a server response time (Tr is -1 on every line: no server answered), so its service time is unknown");
            return null;
        }

        if (_maxTrConcurrency == 0)
        {
            errors.Add($"backend '{Backend}': srv_conn is 0 on all its {TrLines} lines, so the concurrency on a server is unknown; the fit needs the actconn/feconn/beconn/srv_conn/retries field of the standard 'option httplog' format (a custom log-format needs %ac/%fc/%bc/%sc/%rc)");
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
            errors.Add($"backend '{Backend}': every one of its requests met at least {LowConcurrencyLimit} others on its server (srv_conn), so its service time alone is unknown");
            return null;
        }

        FitWorkers(model, meanLow, notes);
        if (Queued)
        {
            model.MaxConn = Math.Max(1, MaxServerConnections);
            notes.Add(Invariant($"backend '{Backend}': requests waited in a queue (Tw > 0): maxConn set to the largest srv_conn logged, {model.MaxConn}"));
        }

        return model;
    }

    // The quantiles of Tr over the requests with srv_conn ≤ limit: limit 1 (a request alone on its server), raised
    // until at least MinServiceSamples requests are in.
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
            notes.Add(Invariant($"backend '{Backend}': service time from the {count} requests with srv_conn <= {limit} (only {_counts[0] + _counts[1]} had srv_conn <= 1)"));
        }
        else if (count < MinServiceSamples)
        {
            notes.Add(Invariant($"backend '{Backend}': service time from only {count} requests: its quantiles are rough"));
        }

        return true;
    }

    // Least squares of the mean Tr per srv_conn value c (those with MinBucketSamples lines) against
    // meanLow × max(1, c / k), relative residuals weighted by the line count. Without significant growth the log shows
    // no limit: k is the largest srv_conn seen.
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

        double unsaturated = Math.Max(1, MaxServerConnections);
        if (buckets.Count < 2 || meanLow <= 0)
        {
            model.Workers = unsaturated;
            notes.Add(Invariant($"backend '{Backend}': too few srv_conn values with {MinBucketSamples}+ requests (or a zero service time) to see how latency grows with concurrency; workers set to the largest srv_conn logged, {model.Workers} (the log shows no limit below it)"));
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
        notes.Add(Invariant($"backend '{Backend}': response time does not grow with srv_conn up to {top} (never saturated in this log); workers set to the largest srv_conn logged, {model.Workers} (the log shows no limit below it)"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
