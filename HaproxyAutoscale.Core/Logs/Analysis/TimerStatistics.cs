using System.Numerics;

namespace HaproxyAutoscale.Logs.Analysis;

/// <summary>
/// Count, exact mean and max, and percentiles of one timer, in bounded memory whatever the number of samples:
/// a log-linear histogram, exact below 2,048 ms and within 1/128 (0.8 %) above.
/// </summary>
internal sealed class TimerStatistics
{
    private const int ExactLimit = 2048;               // values below are counted exactly
    private const int ExactLimitLog2 = 11;
    private const int SubBucketBits = 7;                // 128 buckets per power of two above
    private const int BucketCount = ExactLimit + ((32 - ExactLimitLog2) << SubBucketBits);

    private int[]? _buckets;

    public long Count { get; private set; }

    public long Sum { get; private set; }

    public int Max { get; private set; }

    public double Mean => Count == 0 ? 0 : (double)Sum / Count;

    /// <summary>Adds a timer value; negative values (-1: phase never happened) are ignored.</summary>
    public void Add(int value)
    {
        if (value < 0)
        {
            return;
        }

        _buckets ??= new int[BucketCount];
        _buckets[BucketOf(value)]++;
        Count++;
        Sum += value;
        if (value > Max)
        {
            Max = value;
        }
    }

    public void Merge(TimerStatistics other)
    {
        if (other._buckets is null)
        {
            return;
        }

        _buckets ??= new int[BucketCount];
        for (int i = 0; i < BucketCount; i++)
        {
            _buckets[i] += other._buckets[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least <paramref name="percent"/> % of samples at or below it.</summary>
    public int Percentile(double percent)
    {
        if (_buckets is null || Count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * Count));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
            {
                return Math.Min(LowerBoundOf(i), Max);
            }
        }

        return Max;
    }

    internal static int BucketOf(int value)
    {
        if (value < ExactLimit)
        {
            return value;
        }

        int log2 = BitOperations.Log2((uint)value);
        int mantissa = (value >> (log2 - SubBucketBits)) - (1 << SubBucketBits);
        return ExactLimit + ((log2 - ExactLimitLog2) << SubBucketBits) + mantissa;
    }

    internal static int LowerBoundOf(int bucket)
    {
        if (bucket < ExactLimit)
        {
            return bucket;
        }

        int k = bucket - ExactLimit;
        int log2 = (k >> SubBucketBits) + ExactLimitLog2;
        int mantissa = (k & ((1 << SubBucketBits) - 1)) + (1 << SubBucketBits);
        return mantissa << (log2 - SubBucketBits);
    }
}
