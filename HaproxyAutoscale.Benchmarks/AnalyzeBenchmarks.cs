using System.Text;
using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Cli.Analysis;
using HaproxyAutoscale.Lab;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// Cost per log line of <c>analyze</c>'s <see cref="LogAnalyzer"/> (lean scanner, full parser for the rest,
/// statistics) on 10,000 generated lines in rsyslog's file format: the mixed log operators have (30 % captures,
/// 1 % lines outside the common shape, two processes) and the default generator's (captures on every line), against
/// the baseline of only finding the line ends. Results are per line (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class AnalyzeBenchmarks
{
    private const int Lines = 10_000;
    private readonly LogAnalyzer _mixedAnalyzer = new();
    private readonly LogAnalyzer _defaultAnalyzer = new();
    private byte[] _mixed = [];
    private byte[] _default = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringWriter();
        LogGenerator.WriteMixed(text, Lines);
        _mixed = Encoding.UTF8.GetBytes(text.ToString());
        text = new StringWriter();
        LogGenerator.Write(text, Lines);
        _default = Encoding.UTF8.GetBytes(text.ToString());
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Lines)]
    public int SplitLinesOnly()
    {
        int count = 0;
        ReadOnlySpan<byte> rest = _mixed;
        for (int newline; (newline = rest.IndexOf((byte)'\n')) >= 0; rest = rest[(newline + 1)..])
        {
            count += rest[..newline].Length > 0 ? 1 : 0;
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = Lines)]
    public long AnalyzeMixedLines() => Analyze(_mixedAnalyzer, _mixed);

    [Benchmark(OperationsPerInvoke = Lines)]
    public long AnalyzeDefaultLines() => Analyze(_defaultAnalyzer, _default);

    // One analyzer across invocations: its rows and histograms are made once, as in a real run of millions of lines.
    private static long Analyze(LogAnalyzer analyzer, ReadOnlySpan<byte> rest)
    {
        for (int newline; (newline = rest.IndexOf((byte)'\n')) >= 0; rest = rest[(newline + 1)..])
        {
            analyzer.Add(rest[..newline]);
        }

        return analyzer.Parsed;
    }
}
