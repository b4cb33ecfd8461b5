namespace HaproxyAutoscale.Windows;

/// <summary>
/// The samples of the last <c>duration</c>, kept as ten time slices (as YARP's failure-rate policy keeps buckets):
/// each slice has a count, a sum, a max and a <see cref="LatencyHistogram"/>, and running aggregates cover the whole
/// window. A slice that ages out is subtracted at once, whether or not samples arrive, so memory is bounded
/// whatever the request rate and adding stays O(1).
/// </summary>
internal sealed class TimeWindow : IResponseTimeWindow
{
    private const int SliceCount = 10;

    private readonly TimeProvider _time;
    private readonly long _sliceTicks;
    private readonly WindowStatistic _statistic;
    private readonly Slice[] _slices = new Slice[SliceCount];
    private readonly LatencyHistogram? _total;
    private long _count;
    private long _sum;
    private long _latest = long.MinValue;

    public TimeWindow(TimeSpan duration, WindowStatistic statistic, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.FromMilliseconds(SliceCount));
        _time = timeProvider;
        _sliceTicks = duration.Ticks / SliceCount;
        _statistic = statistic;
        bool percentiles = statistic is not (WindowStatistic.Mean or WindowStatistic.Max);
        _total = percentiles ? new LatencyHistogram() : null;
        for (int i = 0; i < SliceCount; i++)
        {
            _slices[i] = new Slice(percentiles ? new LatencyHistogram() : null) { Start = long.MinValue };
        }
    }

    public void Add(int milliseconds)
    {
        long now = Now();
        Expire(now);
        long start = now - (now % _sliceTicks);
        Slice slice = _slices[(int)((start / _sliceTicks) % SliceCount)];
        if (slice.Start != start)
        {
            // Reusing a slice whose time has passed: Expire already removed its samples from the totals.
            slice.Reset(start);
        }

        slice.Count++;
        slice.Sum += milliseconds;
        slice.Max = Math.Max(slice.Max, milliseconds);
        slice.Histogram?.Add(milliseconds);
        _total?.Add(milliseconds);
        _count++;
        _sum += milliseconds;
    }

    public WindowValue Evaluate()
    {
        Expire(Now());
        if (_count == 0)
        {
            return WindowValue.Empty;
        }

        int count = (int)Math.Min(_count, int.MaxValue);
        int max = 0;
        foreach (Slice slice in _slices)
        {
            if (slice.Count > 0)
            {
                max = Math.Max(max, slice.Max);
            }
        }

        return _statistic switch
        {
            WindowStatistic.Mean => new WindowValue((double)_sum / _count, count),
            WindowStatistic.Max => new WindowValue(max, count),
            _ => new WindowValue(_total!.Percentile(ResponseTimeWindows.Percent(_statistic), _count, max), count),
        };
    }

    // Time never goes back for the window: a late sample (replayed logs are not strictly ordered) counts as now.
    private long Now() => _latest = Math.Max(_latest, _time.GetUtcNow().UtcTicks);

    // Drops slices that started a whole window ago or more.
    private void Expire(long now)
    {
        long oldestKept = now - (now % _sliceTicks) - ((SliceCount - 1) * _sliceTicks);
        foreach (Slice slice in _slices)
        {
            if (slice.Count > 0 && slice.Start < oldestKept)
            {
                _count -= slice.Count;
                _sum -= slice.Sum;
                if (slice.Histogram is not null)
                {
                    _total!.Subtract(slice.Histogram);
                }

                slice.Reset(long.MinValue);
            }
        }
    }

    private sealed class Slice(LatencyHistogram? histogram)
    {
        public long Start { get; set; }

        public long Count { get; set; }

        public long Sum { get; set; }

        public int Max { get; set; }

        public LatencyHistogram? Histogram { get; } = histogram;

        public void Reset(long start)
        {
            Start = start;
            Count = 0;
            Sum = 0;
            Max = 0;
            Histogram?.Clear();
        }
    }
}
