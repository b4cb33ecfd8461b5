using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>
/// <see cref="RecentMaximum"/> (the concurrency policy's scale-down stabilization, kept as runs of equal values) gives
/// what the queue of every (time, value) it replaced gave, whatever the values, steps and cutoffs.
/// </summary>
public sealed class RecentMaximumTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 300)]
    [InlineData(2, 0)]
    [InlineData(3, 5)]
    [InlineData(4, 60)]
    public void Gives_the_maximum_the_queue_of_every_value_gave(int seed, int stabilizationSeconds)
    {
        var random = new Random(seed);
        var runs = new RecentMaximum();
        var queue = new Queue<(DateTimeOffset Time, int Desired)>();
        TimeSpan stabilization = TimeSpan.FromSeconds(stabilizationSeconds);
        DateTimeOffset now = T0;
        for (int i = 0; i < 5_000; i++)
        {
            // Mostly a second later, sometimes the same instant, sometimes a clock that went back (replay).
            now += TimeSpan.FromMilliseconds(random.Next(10) switch { 0 => 0, 1 => -random.Next(3_000), _ => random.Next(200, 3_000) });
            int desired = random.Next(4) == 0 ? random.Next(1, 9) : 3; // long runs of one value, as a steady backend

            queue.Enqueue((now, desired));
            while (queue.Peek().Time < now - stabilization)
            {
                queue.Dequeue();
            }

            runs.Add(now, desired, now - stabilization).Should().Be(queue.Max(r => r.Desired), $"step {i}");
        }
    }
}
