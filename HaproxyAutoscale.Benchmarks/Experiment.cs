using System.Diagnostics;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Benchmarks;

public static class Experiment
{
    public static void Run(string path)
    {
        byte[] all = File.ReadAllBytes(path);
        for (int round = 0; round < 3; round++)
        {
            var sw = Stopwatch.StartNew();
            int lines = 0;
            ReadOnlySpan<byte> s = all;
            while (true) { int nl = s.IndexOf((byte)'\n'); if (nl < 0) break; lines++; s = s[(nl + 1)..]; }
            Console.WriteLine($"split: {sw.Elapsed.TotalMilliseconds} ms {lines}");
            sw.Restart();
            s = all; long sum = 0;
            while (true) { int nl = s.IndexOf((byte)'\n'); if (nl < 0) break; sum += HaproxyAutoscale.Logs.SyslogEnvelope.FindBody(s[..nl]); s = s[(nl + 1)..]; }
            Console.WriteLine($"envelope: {sw.Elapsed.TotalMilliseconds} ms {sum}");
            sw.Restart();
            var p = new HaproxyLogParser();
            s = all; int parsed = 0;
            while (true) { int nl = s.IndexOf((byte)'\n'); if (nl < 0) break; if (p.TryParse(s[..nl], out _)) parsed++; s = s[(nl + 1)..]; }
            Console.WriteLine($"parse: {sw.Elapsed.TotalMilliseconds} ms {parsed}");
            sw.Restart();
            var a = new HaproxyAutoscale.Logs.Analysis.LogAnalyzer();
            s = all;
            while (true) { int nl = s.IndexOf((byte)'\n'); if (nl < 0) break; a.Add(s[..nl]); s = s[(nl + 1)..]; }
            Console.WriteLine($"analyze: {sw.Elapsed.TotalMilliseconds} ms");
        }
    }
}
