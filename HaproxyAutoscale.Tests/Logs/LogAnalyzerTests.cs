using System.Text;
using HaproxyAutoscale.Benchmarks;
using HaproxyAutoscale.Logs.Analysis;
using HaproxyAutoscale.Tests.Infrastructure;

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
    public async Task AnalyzeFile_SplitIntoChunksOverThreads_EqualsOneSequentialPass()
    {
        // Big enough to be cut into 16 chunks at line starts; junk and over-long lines land on chunk edges too.
        using var dir = new TempDirectory();
        string path = dir.File("access.log");
        await using (var writer = new StreamWriter(path))
        {
            var lines = new StringWriter();
            LogGenerator.Write(lines, 30_000);
            int n = 0;
            foreach (string line in lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await writer.WriteLineAsync(line);
                if (++n % 1_000 == 0)
                {
                    await writer.WriteLineAsync(n % 3_000 == 0 ? new string('x', 70_000) : "kernel: not a request line");
                }
            }
        }

        new FileInfo(path).Length.Should().BeGreaterThan(4 * 1024 * 1024);
        LogAnalyzer split = await LogFileAnalysis.AnalyzeFileAsync(path, parallelism: 2, CancellationToken.None);
        LogAnalyzer whole;
        await using (FileStream stream = File.OpenRead(path))
        {
            whole = await LogFileAnalysis.AnalyzeStreamAsync(stream, CancellationToken.None);
        }

        (split.Lines, split.Parsed, split.Unparsed).Should().Be((whole.Lines, whole.Parsed, whole.Unparsed));
        (whole.Lines, whole.Unparsed).Should().Be((30_030L, 30L));
        split.Servers.Select(Row).Order().Should().Equal(whole.Servers.Select(Row).Order());

        static string Row(ServerStatistics s) =>
            $"{s.Backend}/{s.Server} {s.Requests} {string.Join(',', s.StatusClasses)} {s.Tr.Count} {s.Tr.Sum} {s.Tr.Max} {s.Tr.Percentile(95)} {s.Ta.Sum} {s.Tw.Sum} {s.Tc.Sum}";
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
