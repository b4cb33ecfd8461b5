using System.Text;
using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// Cost per log line of <see cref="HaproxyLogParser"/> on 10,000 generated httplog lines in rsyslog's file format,
/// against the baseline of only finding the line ends. Results are per line (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private const int Lines = 10_000;
    private readonly HaproxyLogParser _parser = new();
    private byte[] _log = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringWriter();
        LogGenerator.Write(text, Lines);
        _log = Encoding.UTF8.GetBytes(text.ToString());
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    public int SplitLinesOnly()
    {
        int count = 0;
        ReadOnlySpan<byte> rest = _log;
        for (int newline; (newline = rest.IndexOf((byte)'\n')) >= 0; rest = rest[(newline + 1)..])
        {
            count += rest[..newline].Length > 0 ? 1 : 0;
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = Lines)]
    public int SplitAndParse()
    {
        int parsed = 0;
        long sum = 0;
        ReadOnlySpan<byte> rest = _log;
        for (int newline; (newline = rest.IndexOf((byte)'\n')) >= 0; rest = rest[(newline + 1)..])
        {
            if (_parser.TryParse(rest[..newline], out RequestRecord record))
            {
                parsed++;
                sum += record.ResponseTime;
            }
        }

        return parsed + (int)(sum & 1);
    }
}
