using System.Globalization;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// Turns a <see cref="BackendLogTally"/> into a <see cref="BackendModel"/>: the service-time quantiles, <c>maxConn</c>
/// when requests queued, and the workers (<see cref="WorkerCountFit"/>), with a note for every estimate the log
/// only partly supports.
/// </summary>
internal static class BackendModelFit
{
    /// <summary>Lines with at least this many requests wanted for the service-time distribution before widening.</summary>
    internal const int MinServiceSamples = 100;

    /// <summary>A <c>srv_conn</c> value enters the fit of the workers with at least this many lines.</summary>
    internal const int MinBucketSamples = 20;

    // A concurrency logged by fewer than this share of the queued requests does not count for maxConn.
    private const double MaxConnMinShare = 0.05;

    /// <summary>
    /// The model, or <see langword="null"/>: with the reason added to <paramref name="errors"/>, or to
    /// <paramref name="notes"/> when no request reached a server (a frontend's <c>&lt;BADREQ&gt;</c> lines).
    /// </summary>
    public static BackendModel? Fit(BackendLogTally tally, double coldStartMs, double idleToColdS, List<string> errors, List<string> notes)
    {
        string backend = tally.Backend;
        if (tally.ServerLines == 0)
        {
            notes.Add(Invariant($"backend '{backend}': left out, none of its {tally.TcpLines + tally.HttpLines} lines reached a server (<NOSRV>)"));
            return null;
        }

        if (tally.TrLines == 0)
        {
            errors.Add(tally.HttpServerLines == 0
                ? Invariant($"backend '{backend}': its {tally.ServerLines} log lines are tcplog lines, which carry no server response time (Tr), so its service time is unknown; log it as HTTP: 'mode http' with 'option httplog' in haproxy.cfg")
                : Invariant($"backend '{backend}': none of its {tally.HttpServerLines} requests has a server response time (Tr is -1 on every line: no server answered), so its service time is unknown"));
            return null;
        }

        var model = new BackendModel
        {
            Backend = backend,
            ColdStartMs = coldStartMs,
            IdleToColdS = idleToColdS,
            FittedRequests = tally.TrLines,
        };
        if (!FitServiceTime(tally, model, notes, out double meanLow))
        {
            errors.Add(Invariant($"backend '{backend}': every one of its requests met at least {BackendLogTally.LowConcurrencyLimit - 1} others on its server (srv_conn), so its service time alone is unknown"));
            return null;
        }

        if (tally.Queued)
        {
            model.MaxConn = FitMaxConn(tally);
            notes.Add(Invariant($"backend '{backend}': requests waited in a queue (Tw > 0): maxConn set to {model.MaxConn}, the largest concurrency (srv_conn + 1) the queued requests logged"));
        }

        FitWorkers(tally, model, meanLow, notes);

        return model;
    }

    // The largest concurrency logged by at least MaxConnMinShare of the queued requests. A queued request logs the
    // others on its server, at most maxconn - 1, except when the next request in the queue took the freed place before
    // the line was written (HAProxy 2.6 does that for a few lines in a hundred): such rare values are not the limit.
    private static int FitMaxConn(BackendLogTally tally)
    {
        ReadOnlySpan<long> queuedCounts = tally.QueuedCounts;
        for (int c = queuedCounts.Length - 1; c > 0; c--)
        {
            if (queuedCounts[c] >= MaxConnMinShare * tally.QueuedLines)
            {
                return c;
            }
        }

        return 1;
    }

    // The quantiles of Tr over the requests with concurrency ≤ limit: limit 1 (a request alone on its server, srv_conn
    // 0), raised until at least MinServiceSamples requests are in.
    private static bool FitServiceTime(BackendLogTally tally, BackendModel model, List<string> notes, out double meanLow)
    {
        ReadOnlySpan<long> counts = tally.TrCounts, sums = tally.TrSums;
        long count = 0, sum = 0;
        int limit = -1, max = 0;
        int last = Math.Min(tally.MaxTrConcurrency, BackendLogTally.LowConcurrencyLimit - 1);
        for (int c = 0; c <= last && (c <= 1 || count < MinServiceSamples); c++)
        {
            count += counts[c];
            sum += sums[c];
            max = Math.Max(max, tally.LowMax(c));
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
            if (tally.LowHistogram(c) is { } histogram)
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
            notes.Add(Invariant($"backend '{tally.Backend}': service time from the {count} requests logged with srv_conn <= {limit - 1} (only {counts[1]} were alone on their server, srv_conn 0)"));
        }
        else if (count < MinServiceSamples)
        {
            notes.Add(Invariant($"backend '{tally.Backend}': service time from only {count} requests: its quantiles are rough"));
        }

        return true;
    }

    // The mean Tr per concurrency with MinBucketSamples lines, fitted by WorkerCountFit. Without significant growth
    // the log shows no limit: the workers are the largest concurrency seen.
    private static void FitWorkers(BackendLogTally tally, BackendModel model, double meanLow, List<string> notes)
    {
        ReadOnlySpan<long> counts = tally.TrCounts, sums = tally.TrSums;
        var buckets = new List<(int C, long N, double Mean)>();
        for (int c = 0; c <= tally.MaxTrConcurrency; c++)
        {
            if (counts[c] >= MinBucketSamples)
            {
                buckets.Add((c, counts[c], (double)sums[c] / counts[c]));
            }
        }

        // Never more workers than maxconn lets in.
        double unsaturated = Math.Min(tally.MaxConcurrency, model.MaxConn ?? int.MaxValue);
        if (buckets.Count < 2 || meanLow <= 0)
        {
            model.Workers = unsaturated;
            notes.Add(Invariant($"backend '{tally.Backend}': too few srv_conn values with {MinBucketSamples}+ requests (or a zero service time) to see how latency grows with concurrency; workers set to the largest concurrency logged (srv_conn + 1, at most maxConn), {model.Workers}: the log shows no limit below it"));
            return;
        }

        if (WorkerCountFit.SaturatingWorkers(buckets, meanLow) is double workers)
        {
            model.Workers = workers;
            return;
        }

        model.Workers = unsaturated;
        notes.Add(Invariant($"backend '{tally.Backend}': response time does not grow with srv_conn up to {buckets[^1].C - 1} (never saturated in this log); workers set to the largest concurrency logged (srv_conn + 1, at most maxConn), {model.Workers}: the log shows no limit below it"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
