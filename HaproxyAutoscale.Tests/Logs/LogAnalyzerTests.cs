using System.Text;
using HaproxyAutoscale.Logs.Analysis;

namespace HaproxyAutoscale.Tests.Logs;

public sealed class LogAnalyzerTests
{
    [Fact]
    public void Add_MoreDistinctNamesThanTheNameTableHolds_StillOneRowPerServer()
    {
        var analyzer = new LogAnalyzer(nameCapacity: 4);
        for (int round = 0; round < 3; round++)
        {
            for (int server = 0; server < 10; server++)
            {
                analyzer.Add(Encoding.ASCII.GetBytes($"127.0.0.1:1 [26/Nov/2026:15:01:04.676] fe be/s{server} 0/0/0/{10 * server}/1 200 1 - - ---- 1/1/0/0/0 0/0 \"GET /\""));
            }
        }

        analyzer.Servers.Should().HaveCount(10);
        analyzer.Servers.Should().OnlyContain(s => s.Requests == 3);
        analyzer.Servers.Single(s => s.Server == "s7").Tr.Mean.Should().Be(70);
    }

    [Fact]
    public void TimerStatistics_Percentiles_ExactBelow2048AndWithinOnePercentAbove()
    {
        var stats = new TimerStatistics();
        for (int value = 1; value <= 100; value++)
        {
            stats.Add(value);
        }

        stats.Add(-1); // a phase that never happened is not a sample
        (stats.Count, stats.Mean, stats.Percentile(50), stats.Percentile(95), stats.Percentile(99), stats.Max).Should().Be((100L, 50.5, 50, 95, 99, 100));

        var slow = new TimerStatistics();
        slow.Add(123_456);
        slow.Percentile(50).Should().BeInRange((int)(123_456 * 0.99), 123_456);
    }
}
