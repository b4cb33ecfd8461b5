namespace HaproxyAutoscale.Scaling;

/// <summary>Doubling delays: the one formula behind warm-up retries and failure back-offs.</summary>
internal static class Backoff
{
    /// <summary><paramref name="first"/> × 2^(attempt − 1), at most <paramref name="max"/> (no overflow).</summary>
    public static TimeSpan Exponential(TimeSpan first, int attempt, TimeSpan max)
    {
        int doublings = Math.Clamp(attempt - 1, 0, 20);
        return first.Ticks > max.Ticks >> doublings ? max : TimeSpan.FromTicks(first.Ticks << doublings);
    }
}
