using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>The concurrency policy's ring of samples against a plain list of them.</summary>
public sealed class InFlightSamplesTests
{
    [Fact]
    public void Means_AcrossWrapsGrowthAndUnevenSpacing_AreThoseOfTheSamplesInTheWindows()
    {
        var window = TimeSpan.FromSeconds(60);
        var samples = new InFlightSamples();
        var kept = new List<(long Time, double InFlight, double Arrivals)>();
        var random = new Random(19);
        long now = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero).UtcTicks;
        for (int i = 0; i < 2_000; i++)
        {
            // 1 s apart at first (the ring is sized for 62), then uneven gaps of 0.2–5 s: the ring wraps, grows and drains.
            now += i < 100 ? TimeSpan.TicksPerSecond : (long)(random.Next(200, 5_000) * TimeSpan.TicksPerMillisecond);
            (double inFlight, double arrivals) = (random.NextDouble() * 50, random.NextDouble() * 500);
            samples.Add(now, inFlight, arrivals, window);
            kept.Add((now, inFlight, arrivals));
            kept.RemoveAll(s => s.Time <= now - window.Ticks);

            long panicSince = now - TimeSpan.FromSeconds(6).Ticks;
            var panic = kept.Where(s => s.Time > panicSince).ToList();
            (double Stable, double Panic, double PanicArrivals) expected = (kept.Sum(s => s.InFlight) / kept.Count,
                panic.Count == 0 ? 0 : panic.Sum(s => s.InFlight) / panic.Count, panic.Count == 0 ? 0 : panic.Sum(s => s.Arrivals) / panic.Count);
            samples.Means(now - window.Ticks, panicSince).Should().Be(expected, $"sample {i}: the same sums in the same order");
        }
    }
}
