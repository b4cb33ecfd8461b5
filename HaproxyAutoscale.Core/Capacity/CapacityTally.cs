using System.Runtime.InteropServices;

namespace HaproxyAutoscale.Capacity;

/// <summary>
/// What a backend's log records say about its servers, in fixed arrays that decay instead of growing: per concurrency
/// (<c>srv_conn + 1</c>, 1 to <see cref="MaxConcurrency"/>) the count and sum of <c>Tr</c> and the queued requests, and
/// the <c>Tr</c> distribution of requests alone on their server (concurrency 1) and nearly alone (2 to 4), in
/// log-spaced buckets. About 800 bytes, whatever the traffic; adding a record allocates nothing.
/// </summary>
internal sealed class CapacityTally
{
    /// <summary>Concurrencies above this count as this (the worker fit then sees no limit below it).</summary>
    internal const int MaxConcurrency = 32;

    /// <summary>The nearly-alone distribution covers concurrencies 2 to this.</summary>
    internal const int FewLimit = 4;

    /// <summary>Histogram buckets: bucket 0 holds 0 ms, bucket i ≥ 1 holds [Ratio^(i-1), Ratio^i) ms, the last is open.</summary>
    internal const int Buckets = 48;

    // 1.2^46 ≈ 4,400 ms: the open last bucket starts there. Quantiles interpolate inside a bucket (±10 %).
    private const double Ratio = 1.2;
    private static readonly double LogRatio = Math.Log(Ratio);

    // The bucket of every millisecond value below the open bucket's start, so adding takes no logarithm.
    private static readonly byte[] BucketOfMs = BucketTable();

    // Held in the object itself, not in five arrays, and a concurrency's count, sum and queued side by side: a log
    // line adds to one concurrency and one bucket, two cache lines (at 10,000 backends each is a miss of its own).
    private PerConcurrency _levels;
    private PerBucket _alone, _few;

    /// <summary>The columns of the per-concurrency figures, for <see cref="CopyColumn"/> and <see cref="SetColumn"/>.</summary>
    internal const int CountsColumn = 0, SumsColumn = 1, QueuedColumn = 2;

    internal Span<float> Alone => _alone;

    internal Span<float> Few => _few;

    /// <summary>Adds a request that reached a server: its concurrency (<c>srv_conn + 1</c>), <c>Tr</c> (-1: none) and whether it queued.</summary>
    public void Add(int concurrency, int tr, bool queued)
    {
        int c = Math.Clamp(concurrency, 1, MaxConcurrency);
        ref Level level = ref _levels[c];
        if (queued)
        {
            level.Queued++;
        }

        if (tr < 0)
        {
            return;
        }

        level.Count++;
        level.Sum += tr;
        if (c == 1)
        {
            Alone[BucketOf(tr)]++;
        }
        else if (c <= FewLimit)
        {
            Few[BucketOf(tr)]++;
        }
    }

    /// <summary>Multiplies every count by <paramref name="factor"/> (0 to 1): old requests weigh less.</summary>
    public void Decay(float factor)
    {
        Scale(MemoryMarshal.Cast<Level, float>((Span<Level>)_levels), factor);
        Scale(Alone, factor);
        Scale(Few, factor);
    }

    public void Clear() => Decay(0);

    public void CopyFrom(CapacityTally other)
    {
        (_levels, _alone, _few) = (other._levels, other._alone, other._few);
    }

    public void AddFrom(CapacityTally other)
    {
        for (int c = 0; c <= MaxConcurrency; c++)
        {
            ref Level level = ref _levels[c];
            Level add = other._levels[c];
            (level.Count, level.Sum, level.Queued) = (level.Count + add.Count, level.Sum + add.Sum, level.Queued + add.Queued);
        }

        for (int i = 0; i < Buckets; i++)
        {
            Alone[i] += other.Alone[i];
            Few[i] += other.Few[i];
        }
    }

    /// <summary>
    /// The lowest concurrency limit (1 to <see cref="FewLimit"/>) whose requests number at least <paramref name="wanted"/>
    /// (or the widest with requests), as the log fit widens it: the service time is read from requests at or below it.
    /// </summary>
    public int LowLimit(double wanted)
    {
        double count = 0;
        int limit = 1;
        for (int c = 1; c <= FewLimit; c++)
        {
            count += CountAt(c);
            if (CountAt(c) > 0)
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
    public (double Count, double MeanMs) Low(int limit)
    {
        double count = 0, sum = 0;
        for (int c = 1; c <= limit; c++)
        {
            count += CountAt(c);
            sum += SumAt(c);
        }

        return (count, count > 0 ? sum / count : 0);
    }

    /// <summary>The <paramref name="percent"/> quantile of <c>Tr</c> at concurrency 1 (with 2 to 4 when <paramref name="widened"/>).</summary>
    public double QuantileMs(double percent, bool widened)
    {
        double total = 0;
        for (int i = 0; i < Buckets; i++)
        {
            total += Alone[i] + (widened ? Few[i] : 0);
        }

        if (total <= 0)
        {
            return 0;
        }

        double rank = percent / 100 * total, seen = 0;
        for (int i = 0; i < Buckets; i++)
        {
            double inBucket = Alone[i] + (widened ? Few[i] : 0);
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
            double count = Alone[i] + (widened ? Few[i] : 0);
            double middle = i == 0 ? 0 : Math.Pow(Ratio, i - 1) * (i == Buckets - 1 ? 1 : (1 + Ratio) / 2);
            (n, sum, squares) = (n + count, sum + (count * middle), squares + (count * middle * middle));
        }

        double mean = n > 0 ? sum / n : 0;
        return mean > 0 ? Math.Max(0, (squares / n) - (mean * mean)) / (mean * mean) : 1;
    }

    /// <summary>Requests with a <c>Tr</c> at concurrency <paramref name="c"/> (0 to <see cref="MaxConcurrency"/>).</summary>
    internal float CountAt(int c) => _levels[c].Count;

    /// <summary>The sum of their <c>Tr</c>.</summary>
    internal float SumAt(int c) => _levels[c].Sum;

    /// <summary>Requests that queued at concurrency <paramref name="c"/>.</summary>
    internal float QueuedAt(int c) => _levels[c].Queued;

    /// <summary>One per-concurrency column (<see cref="CountsColumn"/>, …) into <paramref name="into"/> (<see cref="MaxConcurrency"/> + 1 values).</summary>
    internal void CopyColumn(int column, Span<float> into)
    {
        for (int c = 0; c <= MaxConcurrency; c++)
        {
            into[c] = MemoryMarshal.Cast<Level, float>(new Span<Level>(ref _levels[c]))[column];
        }
    }

    /// <summary>Sets one per-concurrency column from <paramref name="values"/> (<see cref="MaxConcurrency"/> + 1 values).</summary>
    internal void SetColumn(int column, ReadOnlySpan<float> values)
    {
        for (int c = 0; c <= MaxConcurrency; c++)
        {
            MemoryMarshal.Cast<Level, float>(new Span<Level>(ref _levels[c]))[column] = values[c];
        }
    }

    internal static int BucketOf(int ms) => ms <= 0 ? 0 : ms < BucketOfMs.Length ? BucketOfMs[ms] : Buckets - 1;

    private static byte[] BucketTable()
    {
        var table = new byte[(int)Math.Pow(Ratio, Buckets - 2) + 1];
        for (int ms = 1; ms < table.Length; ms++)
        {
            table[ms] = (byte)Math.Min(Buckets - 1, 1 + (int)Math.Floor(Math.Log(ms) / LogRatio));
        }

        return table;
    }

    private static void Scale(Span<float> values, float factor)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] *= factor;
        }
    }

    private struct Level
    {
        public float Count;
        public float Sum;
        public float Queued;
    }

    [System.Runtime.CompilerServices.InlineArray(MaxConcurrency + 1)]
    private struct PerConcurrency
    {
        private Level _first;
    }

    [System.Runtime.CompilerServices.InlineArray(Buckets)]
    private struct PerBucket
    {
        private float _first;
    }
}
