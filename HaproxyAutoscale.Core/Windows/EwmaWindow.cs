namespace HaproxyAutoscale.Windows;

/// <summary>
/// Exponentially weighted mean over time: every sample's weight halves each half-life. Kept as a decayed sum and a
/// decayed weight, so bursts of samples at the same instant all count (a per-sample alpha would ignore them).
/// When the weight has decayed below 0.05 (over four half-lives after a lone sample) the window is empty.
/// </summary>
internal sealed class EwmaWindow : IResponseTimeWindow
{
    private const double MinimumWeight = 0.05;

    private readonly TimeProvider _time;
    private readonly double _halfLifeTicks;
    private long _lastTicks;
    private double _weightedSum;
    private double _weight;

    public EwmaWindow(TimeSpan halfLife, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(halfLife, TimeSpan.Zero);
        _time = timeProvider;
        _halfLifeTicks = halfLife.Ticks;
    }

    public void Add(int milliseconds)
    {
        Decay();
        _weightedSum += milliseconds;
        _weight += 1;
    }

    public WindowValue Evaluate()
    {
        Decay();
        return _weight < MinimumWeight ? WindowValue.Empty : new WindowValue(_weightedSum / _weight, (int)Math.Ceiling(_weight));
    }

    private void Decay()
    {
        long now = _time.GetUtcNow().UtcTicks;
        if (now > _lastTicks && _weight > 0)
        {
            double factor = Math.Pow(0.5, (now - _lastTicks) / _halfLifeTicks);
            _weightedSum *= factor;
            _weight *= factor;
        }

        _lastTicks = Math.Max(_lastTicks, now);
    }
}
