using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>The budget of per-server lines that can come by the thousand (keep-warm stops), on a fake clock.</summary>
public sealed class LineBudgetTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 8, 4, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Burst_First20Information_RestDebug_ToldOnceTheBurstIsOver()
    {
        var budget = new LineBudget(_time);
        LogLevel[] levels = [.. Enumerable.Range(0, 25).Select(_ => budget.Next())];

        levels.Take(LineBudget.PerMinute).Should().OnlyContain(l => l == LogLevel.Information);
        levels.Skip(LineBudget.PerMinute).Should().OnlyContain(l => l == LogLevel.Debug);
        budget.TakeQuiet().Should().BeNull("the burst may go on");

        _time.Advance(TimeSpan.FromSeconds(1));
        budget.TakeQuiet().Should().Be((5, _time.GetUtcNow().AddSeconds(-1)));
        budget.TakeQuiet().Should().BeNull("told once");
    }

    [Fact]
    public void LongBurst_ToldOnceAMinuteOld_AndEachMinuteStartsWith20Information()
    {
        var budget = new LineBudget(_time);
        var levels = new List<LogLevel>();
        (int Count, DateTimeOffset Since)? told = null;
        int second = 0;
        for (; second < 120 && told is null; second++)
        {
            levels.AddRange(Enumerable.Range(0, 10).Select(_ => budget.Next())); // 10 stops a second, never a quiet second
            told = budget.TakeQuiet();
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Debug from the third second on (20 information lines in the first two); told when those are a minute old.
        (second - 1).Should().Be(62);
        told!.Value.Count.Should().Be(levels.Count(l => l == LogLevel.Debug));
        told.Value.Since.Should().Be(new DateTimeOffset(2026, 12, 8, 4, 0, 2, TimeSpan.Zero));
        levels.Count(l => l == LogLevel.Information).Should().Be(2 * LineBudget.PerMinute, "the second minute began at second 60 with 20 more");
    }
}
