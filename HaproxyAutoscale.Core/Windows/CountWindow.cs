namespace HaproxyAutoscale.Windows;

/// <summary>The last N samples in a ring, with a running sum for the mean; percentiles sort a preallocated copy.</summary>
internal sealed class CountWindow : IResponseTimeWindow
{
    private readonly int[] _samples;
    private readonly int[] _scratch;
    private readonly WindowStatistic _statistic;
    private int _next;
    private int _count;
    private long _sum;

    public CountWindow(int size, WindowStatistic statistic)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _samples = new int[size];
        _scratch = new int[size];
        _statistic = statistic;
    }

    public void Add(int milliseconds)
    {
        if (_count == _samples.Length)
        {
            _sum -= _samples[_next];
        }
        else
        {
            _count++;
        }

        _samples[_next] = milliseconds;
        _sum += milliseconds;
        _next = (_next + 1) % _samples.Length;
    }

    public WindowValue Evaluate()
    {
        if (_count == 0)
        {
            return WindowValue.Empty;
        }

        if (_statistic == WindowStatistic.Mean)
        {
            return new WindowValue((double)_sum / _count, _count);
        }

        Span<int> sorted = _scratch.AsSpan(0, _count);
        _samples.AsSpan(0, _count).CopyTo(sorted);
        sorted.Sort();
        int rank = Math.Max(1, (int)Math.Ceiling(ResponseTimeWindows.Percent(_statistic) / 100 * _count));
        return new WindowValue(sorted[rank - 1], _count);
    }
}
