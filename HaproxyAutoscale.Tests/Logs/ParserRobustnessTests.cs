using System.Text;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Tests.Logs;

/// <summary>
/// More than 100,000 hostile lines: every truncation of valid lines, random bytes, huge lines, swapped fields and
/// random mutations. The parser never throws, and the crafted cases are counted exactly.
/// </summary>
public sealed class ParserRobustnessTests
{
    [Fact]
    public void TryParse_HostileInput_NeverThrowsAndCountsExactly()
    {
        var parser = new HaproxyLogParser();
        var random = new Random(7);
        List<byte[]> valid = ValidLines();
        long lines = 0, expectedParsed = 0, parsed = 0;

        void Feed(ReadOnlySpan<byte> line, bool? shouldParse)
        {
            lines++;
            bool ok = parser.TryParse(line, out _);
            parsed += ok ? 1 : 0;
            if (shouldParse is bool expected)
            {
                expectedParsed += expected ? 1 : 0;
                ok.Should().Be(expected, Encoding.UTF8.GetString(line));
            }
        }

        // 1. Every prefix of every valid line: unparsed until the request line's opening quote, parsed from there.
        foreach (byte[] line in valid)
        {
            int quote = line.AsSpan().IndexOf((byte)'"');
            int end = quote < 0 ? line.Length : quote + 1;
            for (int length = 0; length <= line.Length; length++)
            {
                Feed(line.AsSpan(0, length), quote < 0 ? length == line.Length : length >= end);
            }
        }

        // 2. Random bytes, printable or not: never a request.
        var junk = new byte[300];
        for (int i = 0; i < 30_000; i++)
        {
            Span<byte> span = junk.AsSpan(0, random.Next(junk.Length));
            random.NextBytes(span);
            if (i % 2 == 0)
            {
                for (int j = 0; j < span.Length; j++)
                {
                    span[j] = (byte)(32 + (span[j] % 95));
                }
            }

            Feed(span, false);
        }

        // 3. Huge lines: 1 MB of letters, of spaces, and a valid head followed by a 1 MB unterminated capture.
        foreach (char fill in "A /x")
        {
            Feed(Encoding.ASCII.GetBytes(new string(fill, 1024 * 1024)), false);
        }

        string head = valid.Select(l => Encoding.UTF8.GetString(l)).First(l => l.Contains('{', StringComparison.Ordinal));
        Feed(Encoding.UTF8.GetBytes(head[..head.IndexOf('{', StringComparison.Ordinal)] + "{" + new string('x', 1024 * 1024)), false);

        // 4. Swapped fields that can never be valid: client<->date, frontend<->backend/server, timers<->status.
        foreach (byte[] line in valid.Take(2_000))
        {
            string text = Encoding.UTF8.GetString(line);
            int tag = text.IndexOf("]: ", StringComparison.Ordinal);
            int body = tag < 0 ? 0 : tag + 3;
            string[] f = text[body..].Split(' ');
            if (f[3].Contains("<NOSRV>", StringComparison.Ordinal))
            {
                continue;
            }

            foreach ((int a, int b) in new[] { (0, 1), (2, 3), (4, 5) })
            {
                string[] swapped = (string[])f.Clone();
                (swapped[a], swapped[b]) = (swapped[b], swapped[a]);
                Feed(Encoding.UTF8.GetBytes(text[..body] + string.Join(' ', swapped)), false);
            }
        }

        // 5. Random single-byte mutations: anything may happen, except an exception.
        for (int i = 0; i < 30_000; i++)
        {
            byte[] line = (byte[])valid[random.Next(valid.Count)].Clone();
            for (int k = random.Next(1, 4); k > 0; k--)
            {
                line[random.Next(line.Length)] = (byte)random.Next(256);
            }

            Feed(line, null);
        }

        lines.Should().BeGreaterThanOrEqualTo(100_000);
        TestContext.Current.SendDiagnosticMessage($"{lines} lines, {parsed} parsed, {expectedParsed} of them crafted to parse");
    }

    [Fact]
    public void TryParse_LineWithBadTimers_KeepsNoPair()
    {
        // A pair is kept only for a line that parses: junk cannot fill the bounded pair table.
        var parser = new HaproxyLogParser(nameCapacity: 2);
        for (int i = 0; i < 10; i++)
        {
            parser.TryParse(Encoding.ASCII.GetBytes($"127.0.0.1:50496 [26/Nov/2026:15:01:14.028] fe app/junk{i} 0/0/x/1/2 200 10 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"")).Should().BeFalse();
        }

        parser.TryParse("127.0.0.1:50496 [26/Nov/2026:15:01:14.028] fe app/s1 0/0/0/1/2 200 10 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""u8.ToArray()).Should().BeTrue();
        parser.LastPairId.Should().Be(0, "the first pair kept is the first line that parsed");
        parser.TryParse("127.0.0.1:50496 [26/Nov/2026:15:01:14.028] fe app/s2 0/0/0/1/2 200 10 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""u8.ToArray()).Should().BeTrue();
        parser.LastPairId.Should().Be(1);
    }

    private static List<byte[]> ValidLines()
    {
        var text = new StringWriter();
        LogGenerator.Write(text, 400);
        List<byte[]> lines = [.. text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Encoding.UTF8.GetBytes)];
        lines.Add("127.0.0.1:50496 [26/Nov/2026:15:01:14.028] fe_tcp be_tcp/t1 1/0/0 122 -- 1/1/0/0/0 0/0"u8.ToArray());
        var parser = new HaproxyLogParser();
        lines.Should().OnlyContain(l => parser.TryParse(l));
        return lines;
    }
}

internal static class ParserTestExtensions
{
    public static bool TryParse(this HaproxyLogParser parser, byte[] line) => parser.TryParse(line, out _);
}
