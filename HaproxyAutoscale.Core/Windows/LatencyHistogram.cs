using System.Numerics;
using System.Runtime.CompilerServices;

namespace HaproxyAutoscale;

/// <summary>
/// Counts of millisecond values in log-linear buckets: exact below 2,048 ms, within 1/128 (0.8 %) above, up to
/// int.MaxValue, in 4,608 counters. Adding is O(1); a percentile is one scan. Used by <c>analyze</c> and by the
/// time window.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int ExactLimit = 2048;
    private const int ExactLimitLog2 = 11;
    private const int SubBucketBits = 7;
    internal const int BucketCount = ExactLimit + ((32 - ExactLimitLog2) << SubBucketBits);

    private readonly int[] _counts = new int[BucketCount];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int value) => _counts[BucketOf(value)]++;

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    public void Subtract(LatencyHistogram other)
    {
        for (int i = 0; i < BucketCount; i++)
        {
            _counts[i] -= other._counts[i];
        }
    }

    public void Clear() => Array.Clear(_counts);

    /// <summary>Nearest rank: the smallest value with at least <paramref name="percent"/> % of the <paramref name="count"/> samples at or below it, capped at <paramref name="max"/>.</summary>
    public int Percentile(double percent, long count, int max)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * count));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(LowerBoundOf(i), max);
            }
        }

        return max;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int BucketOf(int value) => value < ExactLimit ? Math.Max(0, value) : LogLinearBucketOf(value);

    private static int LogLinearBucketOf(int value)
    {
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
