using System.Text;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Cli.Analysis;

namespace HaproxyAutoscale.Tests.Cli.Analysis;

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
    public async Task AnalyzeFile_MixedLog_SameRowsAndCountsAsTheFullParserLineByLine()
    {
        // The file path analyze takes (ranges over threads, one-pass reads) against the full parser alone, on the
        // log operators have: captures on 30 % of the lines, <NOSRV>, -1 timers, '+' totals, two processes.
        using var dir = new TempDirectory();
        string path = dir.File("access.log");
        await using (var writer = new StreamWriter(path))
        {
            LogGenerator.WriteMixed(writer, 30_000);
        }

        LogAnalyzer split = await LogFileAnalysis.AnalyzeFileAsync(path, parallelism: 2, CancellationToken.None);
        var full = new LogAnalyzer(NameTable<string>.DefaultCapacity, leanScan: false);
        foreach (string line in File.ReadLines(path))
        {
            full.Add(Encoding.UTF8.GetBytes(line));
        }

        (split.Lines, split.Parsed).Should().Be((full.Lines, full.Parsed));
        full.Unparsed.Should().BeGreaterThan(20, "server state lines are not requests");
        split.Servers.Select(Row).Order().Should().Equal(full.Servers.Select(Row).Order());

        static string Row(ServerStatistics s) =>
            $"{s.Backend}/{s.Server} {s.Requests} {string.Join(',', s.StatusClasses)} {Timer(s.Tr)} {Timer(s.Tw)} {Timer(s.Tc)} {Timer(s.Ta)}";

        static string Timer(TimerStatistics t) => $"{t.Count}:{t.Sum}:{t.Max}:{t.Percentile(50)}:{t.Percentile(95)}:{t.Percentile(99)}";
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

    // Each variant changes one field of a good line to just inside or just outside what the parser accepts.
    private static readonly (string From, string To)[] Variants =
    [
        ("", ""),
        ("10.0.0.1:", "255.255.255.255:"), ("10.0.0.1:", "256.0.0.1:"), ("10.0.0.1:", "1000.0.0.1:"), ("10.0.0.1:", "10.0.0:"), ("10.0.0.1:", "10..0.1:"),
        (":5000 ", ":65535 "), (":5000 ", ":65536 "), (":5000 ", ":123456 "), (":5000 ", ": "), ("10.0.0.1:5000", "::1:5000"), ("10.0.0.1:5000", "unix:1"),
        ("5000 [", "5000  ["), (".676]", "]"), ("15:01:04.676", "15:01:60.676"), ("15:01:04.", "24:01:04."), ("[26/Nov", "[31/Nov"),
        ("[26/Nov", "[27/Nov"), (".676", ".6x6"), (" fe ", " fe~ "), (" fe ", " f\u00e9 "), (" fe ", " ~ "), ("be/srv", "be/<NOSRV>"), ("be/srv", "be/srv/x"),
        ("be/srv", "be"), (" 1/2/3/40/50 ", " -1/2/-1/-1/50 "), ("/50 ", "/+50 "), ("/50 ", "/123456789 "), ("/50 ", "/1234567890 "),
        ("/50 ", "/50/6 "), (" 1/2/3/40/50 ", " 2/3/50 "), (" 200 ", " -1 "), (" 200 ", " 999 "), (" 200 ", " 1000 "), (" 200 ", " +200 "),
        (" 1234 ", " +1234 "), (" 1234 ", " -1 "), (" 1234 ", " 1234567890123456789 "), (" - - ", " c=1 - "), (" - - ", "  - "), (" ---- ", " --- "),
        (" ---- ", " -- - "), (" 1/2/3/4/0 ", " 1/2/3/4 "), (" 1/2/3/4/0 ", " 1/2/3/4/0/5 "), (" 1/2/3/4/0 ", " -1/2/3/4/0 "),
        (" 1/2/3/4/0 ", " 1234567890/2/3/4/0 "), (" 1/2/3/4/0 ", " 1//3/4/0 "), (" 0/0 \"", " 0/0/0 \""), (" 0/0 \"", " 0 \""),
        (" 0/0 \"", " 0/0 {a b} \""), (" 0/0 \"GET /\"", " 0/0 {a b}"), (" 0/0 \"GET /\"", " 0/0 "), ("Nov 26 15:01:04 lb1 haproxy[1]: ", "<134>Nov 26 15:01:04 haproxy[1]: "),
        ("Nov 26 15:01:04 lb1 haproxy[1]: ", ""), ("lb1 haproxy", "lb1haproxy"), ("\"GET /\"", "\"GET /\"\r"),
    ];

    [Fact]
    public void LeanScanner_AcceptsOnlyLinesTheParserAccepts_WithTheParsersValues()
    {
        // Soundness of the analyze fast path, line by line: whatever it accepts, the full parser accepts with the
        // same pair, status and timers; whatever it is unsure about goes to the parser (so counts cannot differ).
        const string Good = "Nov 26 15:01:04 lb1 haproxy[1]: 10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 1/2/3/40/50 200 1234 - - ---- 1/2/3/4/0 0/0 \"GET /\"";
        var lines = new List<byte[]>();
        foreach ((string From, string To) variant in Variants)
        {
            string line = variant.From.Length == 0 ? Good : Good.Replace(variant.From, variant.To, StringComparison.Ordinal);
            line.Should().NotBe(variant.From.Length == 0 ? null : Good, variant.From);
            lines.Add(Encoding.Latin1.GetBytes(line));
        }

        // And random damage to generated lines: a byte replaced by one of the separators or digits.
        var generated = new StringWriter();
        LogGenerator.Write(generated, 3_000);
        var random = new Random(15);
        byte[] alphabet = "0123456789 /.:-+[]{}\"~x"u8.ToArray();
        foreach (string line in generated.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(line);
            lines.Add(bytes);
            byte[] damaged = (byte[])bytes.Clone();
            damaged[random.Next(damaged.Length)] = alphabet[random.Next(alphabet.Length)];
            lines.Add(damaged);
        }

        var lean = new LeanLineScanner<string>(capacity: 64);
        var parser = new HaproxyLogParser();
        int leanAccepted = 0, parserOnly = 0;
        foreach (byte[] line in lines)
        {
            bool parsed = parser.TryParse(line, out RequestRecord record);
            if (lean.TryScan(line, out string? pair, out int status, out LeanLineScanner<string>.Timers t))
            {
                leanAccepted++;
                parsed.Should().BeTrue(Encoding.Latin1.GetString(line));
                (pair, status, t[0], t[1], t[2], t[3], t[4]).Should().Be(
                    ($"{record.Backend}/{record.Server}", record.StatusCode, record.RequestTime, record.QueueTime, record.ConnectTime, record.ResponseTime, record.TotalTime),
                    Encoding.Latin1.GetString(line));
            }
            else if (parsed)
            {
                parserOnly++;
                lean.AddPair(line, $"{record.Backend}/{record.Server}");
            }
        }

        // Not vacuous: the fast path takes most good lines, and the parser still gets the ones it is unsure about.
        leanAccepted.Should().BeGreaterThan(4_000, "of 3,000 good lines and 3,000 damaged copies");
        parserOnly.Should().BeGreaterThan(10);
    }

    // The shapes of the mixed log (LogGenerator.WriteMixed) one by one: whether the lean scanner takes the line
    // itself (true) or leaves it to the parser (false), and either way the parser's values.
    [Theory]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 0/0/1/79/82 200 1234 - - ---- 12/12/3/1/0 0/0 {10.0.0.1|Mozilla/5.0 (X11; Linux x86_64) spaced agent} \"GET / HTTP/1.1\"", true)]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 0/0/1/79/82 200 1234 - - ---- 12/12/3/1/0 0/0 {|} \"GET / HTTP/1.1\"", true)]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 3/3/0/0/0 0/0 \"GET / HTTP/1.1\"", false)]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 0/0/1/-1/3 502 1234 - - SH-- 12/12/3/1/0 0/0 \"GET / HTTP/1.1\"", true)]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 0/12/1/123456789/123456800 200 1234 - - ---- 12/12/3/1/0 0/0 \"GET / HTTP/1.1\"", true)]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 123456789/123456789/123456789/-1/1 200 1234 - - ---- 12/12/3/1/0 0/0 \"GET / HTTP/1.1\"", true)]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 0/0/1/79/+82 200 1234 - - ---- 12/12/3/1/0 0/0 \"GET / HTTP/1.1\"", false)]
    [InlineData("10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe be/srv 0/0/1/1234567890/82 200 1234 - - ---- 12/12/3/1/0 0/0 \"GET / HTTP/1.1\"", false)]
    [InlineData("Server be/srv is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. 4 active and 0 backup servers online.", false)]
    public void LeanScanner_MixedLogShapes_TakenOrLeftToTheParserWithTheParsersValues(string body, bool lean)
    {
        // Two processes (a reload) interleaved: the scanner keeps both host-and-tags.
        var scanner = new LeanLineScanner<string>(capacity: 64);
        var parser = new HaproxyLogParser();
        const string Known = "10.0.0.2:4000 [26/Nov/2026:15:01:03.001] fe be/srv 0/0/0/1/1 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"";
        foreach (string primer in new[] { Known, Known.Replace("be/srv", "be/<NOSRV>", StringComparison.Ordinal) })
        {
            byte[] bytes = Encoding.ASCII.GetBytes("Nov 26 15:01:03 lb1 haproxy[12853]: " + primer);
            parser.TryParse(bytes, out RequestRecord primed).Should().BeTrue();
            scanner.TryScan(bytes, out _, out _, out _).Should().BeFalse("the pair is new");
            scanner.AddPair(bytes, $"{primed.Backend}/{primed.Server}");
        }

        foreach (string pid in new[] { "13011", "12853", "13011" })
        {
            byte[] line = Encoding.ASCII.GetBytes($"Nov 26 15:01:04 lb1 haproxy[{pid}]: {body}");
            bool parsed = parser.TryParse(line, out RequestRecord record);
            bool taken = scanner.TryScan(line, out string? pair, out int status, out LeanLineScanner<string>.Timers t);
            taken.Should().Be(lean, pid);
            if (taken)
            {
                parsed.Should().BeTrue();
                (pair, status, t[0], t[1], t[2], t[3], t[4]).Should().Be(
                    ($"{record.Backend}/{record.Server}", record.StatusCode, record.RequestTime, record.QueueTime, record.ConnectTime, record.ResponseTime, record.TotalTime));
            }
        }

        // And through the analyzer: the same rows and counts with and without the lean scanner.
        var fast = new LogAnalyzer();
        var full = new LogAnalyzer(NameTable<string>.DefaultCapacity, leanScan: false);
        foreach (string line in new[] { Known, body, body, Known, body })
        {
            byte[] bytes = Encoding.ASCII.GetBytes("Nov 26 15:01:04 lb1 haproxy[13011]: " + line);
            fast.Add(bytes);
            full.Add(bytes);
        }

        (fast.Lines, fast.Parsed).Should().Be((full.Lines, full.Parsed));
        fast.Servers.Select(Row).Order().Should().Equal(full.Servers.Select(Row).Order());

        static string Row(ServerStatistics s) =>
            $"{s.Backend}/{s.Server} {s.Requests} {string.Join(',', s.StatusClasses)} {s.Tr.Count}:{s.Tr.Sum}:{s.Tr.Max} {s.Tw.Count}:{s.Tw.Sum} {s.Tc.Count}:{s.Tc.Sum} {s.Ta.Count}:{s.Ta.Sum}:{s.Ta.Max}";
    }

    [Fact]
    public void AddLines_ReadInBlocks_SameLinesAndRowsAsTheSplitterFeedingTheParser()
    {
        // AddLines reads a line the lean scanner takes in one pass and searches its newline only from the request on:
        // newlines and carriage returns put anywhere, an over-long line and an unterminated last line must still
        // make the same lines as the splitter, with the full parser's counts.
        var generated = new StringWriter();
        LogGenerator.WriteMixed(generated, 5_000);
        generated.Write(new string('x', LogSources.DefaultMaxLineLength + 1) + "\n");
        generated.Write(new string('y', LogSources.DefaultMaxLineLength) + "\n");
        LogGenerator.WriteMixed(generated, 1_000, seed: 3);
        generated.Write("Nov 26 15:01:04 lb1 haproxy[13011]: 10.0.0.1:5000 [26/Nov/2026:15:01:04.676] fe app1backend/server1 0/0/1/79/82 200 1234 - - ---- 12/12/3/1/0 0/0 \"GET /");
        byte[] text = Encoding.UTF8.GetBytes(generated.ToString());
        var random = new Random(7);
        for (int i = 0; i < 800; i++)
        {
            text[random.Next(text.Length)] = (byte)"\n\r {}\"-0"[random.Next(8)];
        }

        var full = new LogAnalyzer(NameTable<string>.DefaultCapacity, leanScan: false);
        var counters = new LogSourceCounters();
        var splitter = new LineSplitter(LogSources.DefaultMaxLineLength, counters);
        for (int at = 0; at < text.Length;)
        {
            Span<byte> free = splitter.GetFreeSpace().Span;
            int count = Math.Min(free.Length, text.Length - at);
            text.AsSpan(at, count).CopyTo(free);
            at += count;
            splitter.Commit(count, full.Add);
        }

        splitter.Flush(full.Add);
        full.AddUnreadLines(counters.Oversized);

        // Blocks of random sizes; what a block leaves unread (an unfinished line) starts the next one.
        var blocks = new LogAnalyzer();
        for (int start = 0, end = 0; ;)
        {
            end = Math.Min(text.Length, end + random.Next(1, 3_000));
            bool final = end == text.Length;
            start += blocks.AddLines(text.AsSpan(start, end - start), final);
            if (final)
            {
                start.Should().Be(text.Length);
                break;
            }
        }

        (blocks.Lines, blocks.Parsed).Should().Be((full.Lines, full.Parsed));
        full.Unparsed.Should().BeGreaterThan(100);
        blocks.Servers.Select(Row).Order().Should().Equal(full.Servers.Select(Row).Order());

        static string Row(ServerStatistics s) =>
            $"{s.Backend}/{s.Server} {s.Requests} {string.Join(',', s.StatusClasses)} {Timer(s.Tr)} {Timer(s.Tw)} {Timer(s.Tc)} {Timer(s.Ta)}";

        static string Timer(TimerStatistics t) => $"{t.Count}:{t.Sum}:{t.Max}:{t.Percentile(50)}:{t.Percentile(95)}:{t.Percentile(99)}";
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the log operators have: captures on 30 % of the lines, 1 % outside the common shape
    public void Add_WithAndWithoutTheLeanScanner_SameRowsAndCounts(bool mixed)
    {
        var generated = new StringWriter();
        if (mixed)
        {
            LogGenerator.WriteMixed(generated, 5_000);
        }
        else
        {
            LogGenerator.Write(generated, 5_000);
        }

        var random = new Random(5);
        var fast = new LogAnalyzer();
        var full = new LogAnalyzer(NameTable<string>.DefaultCapacity, leanScan: false);
        foreach (string line in generated.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(line);
            if (random.Next(10) == 0)
            {
                bytes[random.Next(bytes.Length)] = (byte)"0 /-+x"[random.Next(6)];
            }

            fast.Add(bytes);
            full.Add(bytes);
        }

        (fast.Lines, fast.Parsed).Should().Be((full.Lines, full.Parsed));
        full.Unparsed.Should().BeGreaterThan(0);
        fast.Servers.Select(Row).Order().Should().Equal(full.Servers.Select(Row).Order());

        static string Row(ServerStatistics s) =>
            $"{s.Backend}/{s.Server} {s.Requests} {string.Join(',', s.StatusClasses)} {Timer(s.Tr)} {Timer(s.Tw)} {Timer(s.Tc)} {Timer(s.Ta)}";

        static string Timer(TimerStatistics t) => $"{t.Count}:{t.Sum}:{t.Max}:{t.Percentile(50)}:{t.Percentile(95)}:{t.Percentile(99)}";
    }
}
