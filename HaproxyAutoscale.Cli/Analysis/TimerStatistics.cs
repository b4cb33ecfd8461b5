using System.Runtime.CompilerServices;

namespace HaproxyAutoscale.Cli.Analysis;

/// <summary>
/// Count, exact mean and max, and percentiles of one timer, in bounded memory whatever the number of samples
/// (see <see cref="LatencyHistogram"/>).
/// </summary>
internal sealed class TimerStatistics
{
    private LatencyHistogram? _histogram;

    public long Count { get; private set; }

    public long Sum { get; private set; }

    public int Max { get; private set; }

    public double Mean => Count == 0 ? 0 : (double)Sum / Count;

    /// <summary>Adds a timer value; negative values (-1: phase never happened) are ignored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int value)
    {
        if (value < 0)
        {
            return;
        }

        (_histogram ??= new LatencyHistogram()).Add(value);
        Count++;
        Sum += value;
        if (value > Max)
        {
            Max = value;
        }
    }

    public void Merge(TimerStatistics other)
    {
        if (other._histogram is null)
        {
            return;
        }

        (_histogram ??= new LatencyHistogram()).Add(other._histogram);
        Count += other.Count;
        Sum += other.Sum;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Nearest-rank percentile: the smallest value with at least <paramref name="percent"/> % of samples at or below it.</summary>
    public int Percentile(double percent) => _histogram is null || Count == 0 ? 0 : _histogram.Percentile(percent, Count, Max);
}
