namespace HaproxyAutoscale.Capacity;

/// <summary>
/// What a backend's log records say about its servers, in fixed arrays that decay instead of growing: per concurrency
/// (<c>srv_conn + 1</c>, 1 to <see cref="MaxConcurrency"/>) the count and sum of <c>Tr</c> and the queued requests, and
/// the <c>Tr</c> distribution of requests alone on their server (concurrency 1) and nearly alone (2 to 4), in
/// log-spaced buckets. Kept twice over, side by side: the decayed figures and the current generation's (the drift
/// check's, <see cref="Generation"/>); a record adds to both, in two cache lines. About 1.5 KB, whatever the traffic;
/// adding a record allocates nothing.
/// </summary>
internal sealed partial class CapacityTally
{
    /// <summary>Concurrencies above this count as this (the worker fit then sees no limit below it).</summary>
    internal const int MaxConcurrency = 32;

    /// <summary>The nearly-alone distribution covers concurrencies 2 to this.</summary>
    internal const int FewLimit = 4;

    /// <summary>Histogram buckets: bucket 0 holds 0 ms, bucket i ≥ 1 holds [Ratio^(i-1), Ratio^i) ms, the last is open.</summary>
    internal const int Buckets = 48;

    /// <summary>The figures every method reads unless told otherwise: decayed, saved, fitted.</summary>
    internal const int Decayed = 0;

    /// <summary>The current generation's figures: only added to and cleared (the drift check compares them with the decayed ones).</summary>
    internal const int Generation = 1;

    /// <summary>The columns of the per-concurrency figures, for <see cref="CopyColumn"/> and <see cref="SetColumn"/>.</summary>
    internal const int CountsColumn = 0, SumsColumn = 1, QueuedColumn = 2, AloneColumn = 3, FewColumn = 4;

    // 1.2^46 ≈ 4,400 ms: the open last bucket starts there. Quantiles interpolate inside a bucket (±10 %).
    private const double Ratio = 1.2;
    private static readonly double LogRatio = Math.Log(Ratio);

    // The bucket of every millisecond value below the open bucket's start, so adding takes no logarithm.
    private static readonly byte[] BucketOfMs = BucketTable();

    // Held in the object itself, not in arrays, a concurrency's figures side by side and both kinds of figures next
    // to each other: a log line adds to one concurrency and one bucket of each, two cache lines in all (at 10,000
    // backends each line it reaches is a cache miss of its own).
    private PerConcurrency _levels;
    private PerBucket _buckets;

    /// <summary>Asks the CPU for the figures <see cref="Add"/> will add a request of <paramref name="concurrency"/> to.</summary>
    public void Prefetch(int concurrency) => Scaling.CacheHints.Prefetch(ref _levels[Math.Clamp(concurrency, 1, MaxConcurrency)]);

    /// <summary>Adds a request that reached a server to both kinds of figures: its concurrency (<c>srv_conn + 1</c>), <c>Tr</c> (-1: none) and whether it queued.</summary>
    public void Add(int concurrency, int tr, bool queued)
    {
        int c = Math.Clamp(concurrency, 1, MaxConcurrency);
        ref Both<Level> level = ref _levels[c];
        if (queued)
        {
            level[Decayed].Queued++;
            level[Generation].Queued++;
        }

        if (tr < 0)
        {
            return;
        }

        level[Decayed].Count++;
        level[Decayed].Sum += tr;
        level[Generation].Count++;
        level[Generation].Sum += tr;
        if (c == 1)
        {
            ref Both<Bucket> bucket = ref _buckets[BucketOf(tr)];
            bucket[Decayed].Alone++;
            bucket[Generation].Alone++;
        }
        else if (c <= FewLimit)
        {
            ref Both<Bucket> bucket = ref _buckets[BucketOf(tr)];
            bucket[Decayed].Few++;
            bucket[Generation].Few++;
        }
    }

    /// <summary>Multiplies every decayed count by <paramref name="factor"/> (0 to 1): old requests weigh less.</summary>
    public void Decay(float factor)
    {
        for (int c = 0; c <= MaxConcurrency; c++)
        {
            ref Level level = ref _levels[c][Decayed];
            (level.Count, level.Sum, level.Queued) = (level.Count * factor, level.Sum * factor, level.Queued * factor);
        }

        for (int i = 0; i < Buckets; i++)
        {
            ref Bucket bucket = ref _buckets[i][Decayed];
            (bucket.Alone, bucket.Few) = (bucket.Alone * factor, bucket.Few * factor);
        }
    }

    /// <summary>Clears the current generation's figures (a new generation starts).</summary>
    public void ClearGeneration()
    {
        for (int c = 0; c <= MaxConcurrency; c++)
        {
            _levels[c][Generation] = default;
        }

        for (int i = 0; i < Buckets; i++)
        {
            _buckets[i][Generation] = default;
        }
    }

    /// <summary>Makes the decayed figures <paramref name="other"/>'s <paramref name="figures"/> (<see cref="Decayed"/> or <see cref="Generation"/>).</summary>
    public void CopyFrom(CapacityTally other, int figures = Decayed)
    {
        for (int c = 0; c <= MaxConcurrency; c++)
        {
            _levels[c][Decayed] = other._levels[c][figures];
        }

        for (int i = 0; i < Buckets; i++)
        {
            _buckets[i][Decayed] = other._buckets[i][figures];
        }
    }

    /// <summary>Adds <paramref name="other"/>'s <paramref name="figures"/> to the decayed figures.</summary>
    public void AddFrom(CapacityTally other, int figures = Decayed)
    {
        for (int c = 0; c <= MaxConcurrency; c++)
        {
            ref Level level = ref _levels[c][Decayed];
            Level add = other._levels[c][figures];
            (level.Count, level.Sum, level.Queued) = (level.Count + add.Count, level.Sum + add.Sum, level.Queued + add.Queued);
        }

        for (int i = 0; i < Buckets; i++)
        {
            ref Bucket bucket = ref _buckets[i][Decayed];
            Bucket add = other._buckets[i][figures];
            (bucket.Alone, bucket.Few) = (bucket.Alone + add.Alone, bucket.Few + add.Few);
        }
    }

    /// <summary>
    /// The lowest concurrency limit (1 to <see cref="FewLimit"/>) whose requests number at least <paramref name="wanted"/>
    /// (or the widest with requests), as the log fit widens it: the service time is read from requests at or below it.
    /// </summary>
    public int LowLimit(double wanted, int figures = Decayed)
    {
        double count = 0;
        int limit = 1;
        for (int c = 1; c <= FewLimit; c++)
        {
            float n = _levels[c][figures].Count;
            count += n;
            if (n > 0)
            {
                limit = c; // never wider than the requests go
            }

            if (count >= wanted)
            {
                return c;
            }
        }

        return limit;
    }

    /// <summary>Requests with a <c>Tr</c> at concurrency 1 to <paramref name="limit"/>, and their mean <c>Tr</c> (0 when none).</summary>
    public (double Count, double MeanMs) Low(int limit, int figures = Decayed)
    {
        double count = 0, sum = 0;
        for (int c = 1; c <= limit; c++)
        {
            count += _levels[c][figures].Count;
            sum += _levels[c][figures].Sum;
        }

        return (count, count > 0 ? sum / count : 0);
    }

    /// <summary>The <paramref name="percent"/> quantile of <c>Tr</c> at concurrency 1 (with 2 to 4 when <paramref name="widened"/>).</summary>
    public double QuantileMs(double percent, bool widened)
    {
        double total = 0;
        for (int i = 0; i < Buckets; i++)
        {
            total += InBucket(i, widened);
        }

        if (total <= 0)
        {
            return 0;
        }

        double rank = percent / 100 * total, seen = 0;
        for (int i = 0; i < Buckets; i++)
        {
            double inBucket = InBucket(i, widened);
            if (inBucket > 0 && seen + inBucket >= rank)
            {
                if (i == 0)
                {
                    return 0;
                }

                double low = Math.Pow(Ratio, i - 1), high = i == Buckets - 1 ? low : low * Ratio;
                return low + ((high - low) * Math.Clamp((rank - seen) / inBucket, 0, 1));
            }

            seen += inBucket;
        }

        return Math.Pow(Ratio, Buckets - 2);
    }

    /// <summary>
    /// The squared coefficient of variation (variance ÷ mean²) of <c>Tr</c> at concurrency 1 (with 2 to 4 when
    /// <paramref name="widened"/>), from the buckets' midpoints; 1 (exponential) when there is nothing to go by.
    /// </summary>
    public double SquaredVariation(bool widened)
    {
        double n = 0, sum = 0, squares = 0;
        for (int i = 0; i < Buckets; i++)
        {
            double count = InBucket(i, widened);
            double middle = i == 0 ? 0 : Math.Pow(Ratio, i - 1) * (i == Buckets - 1 ? 1 : (1 + Ratio) / 2);
            (n, sum, squares) = (n + count, sum + (count * middle), squares + (count * middle * middle));
        }

        double mean = n > 0 ? sum / n : 0;
        return mean > 0 ? Math.Max(0, (squares / n) - (mean * mean)) / (mean * mean) : 1;
    }

    /// <summary>Decayed requests with a <c>Tr</c> at concurrency <paramref name="c"/> (0 to <see cref="MaxConcurrency"/>).</summary>
    internal float CountAt(int c) => _levels[c][Decayed].Count;

    /// <summary>The decayed sum of their <c>Tr</c>.</summary>
    internal float SumAt(int c) => _levels[c][Decayed].Sum;

    /// <summary>Decayed requests that queued at concurrency <paramref name="c"/>.</summary>
    internal float QueuedAt(int c) => _levels[c][Decayed].Queued;

    internal static int BucketOf(int ms) => ms <= 0 ? 0 : ms < BucketOfMs.Length ? BucketOfMs[ms] : Buckets - 1;

    private double InBucket(int i, bool widened)
    {
        Bucket bucket = _buckets[i][Decayed];
        return bucket.Alone + (widened ? bucket.Few : 0);
    }

    private static byte[] BucketTable()
    {
        var table = new byte[(int)Math.Pow(Ratio, Buckets - 2) + 1];
        for (int ms = 1; ms < table.Length; ms++)
        {
            table[ms] = (byte)Math.Min(Buckets - 1, 1 + (int)Math.Floor(Math.Log(ms) / LogRatio));
        }

        return table;
    }
}
