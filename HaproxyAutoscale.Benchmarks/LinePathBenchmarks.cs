using System.Text;
using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// The daemon's path for one log line (issue 22): parsed, its backend found, the backend's lock taken and its decider
/// fed (<see cref="LogLineRouter"/>), over the scale rig's configuration (8 servers per backend, the default policy).
/// One operation is one second of 100,000 lines/s in the rig's lines (Zipf(1) over the backends); an evaluation pass
/// runs between operations, outside the measurement, as in the daemon (it takes the backends out of the caches).
/// </summary>
[MemoryDiagnoser]
[MinColumn]
public class LinePathBenchmarks
{
    private const int Lines = 100_000;
    private readonly ManualClock _clock = new();
    private Autoscaler _autoscaler = null!;
    private LogLineRouter _router = null!;
    private byte[] _text = null!;
    private int[] _ends = null!;

    [Params(10, 10_000)]
    public int Backends { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _autoscaler = ScaleMeasurements.DryRunAutoscaler(Backends, _clock);
        _router = _autoscaler.CreateLineRouter();

        // The rig's lines (without the octet count), the backends drawn by Zipf(1).
        var text = new MemoryStream();
        _ends = new int[Lines];
        int[] draws = ScaleMeasurements.ZipfDraws(Backends, Lines);
        for (int i = 0; i < Lines; i++)
        {
            text.Write(Encoding.ASCII.GetBytes(ScaleMeasurements.Line(draws[i])));
            _ends[i] = (int)text.Length;
        }

        _text = text.ToArray();
        for (int pass = 0; pass < 70; pass++)
        {
            Pass();
            Feed(); // past the policies' first minute, every backend's first lines parsed
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _autoscaler.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [IterationSetup]
    public void Pass()
    {
        _clock.Set(_clock.GetUtcNow().AddSeconds(1));
        _autoscaler.EvaluatePass(CancellationToken.None);
    }

    /// <summary>
    /// `line-path BACKENDS ITERATIONS`: the same operation measured in the process's CPU time instead of wall time (a
    /// shared machine's load stretches the wall time, far less the CPU time): min and median CPU ns per line.
    /// </summary>
    public static string MeasureCpu(int backends, int iterations)
    {
        var benchmark = new LinePathBenchmarks { Backends = backends };
        benchmark.Setup();
        var perLine = new List<double>();
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        for (int i = 0; i < iterations; i++)
        {
            benchmark.Pass();
            process.Refresh();
            TimeSpan before = process.TotalProcessorTime;
            benchmark.Feed();
            process.Refresh();
            perLine.Add((process.TotalProcessorTime - before).TotalNanoseconds / Lines);
        }

        benchmark.Cleanup();
        perLine.Sort();
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{backends} backends: CPU per line min {perLine[0]:0} ns, median {perLine[perLine.Count / 2]:0} ns ({iterations} x {Lines:N0} lines)");
    }

    [Benchmark(OperationsPerInvoke = Lines)]
    public int Feed()
    {
        int start = 0, routed = 0;
        foreach (int end in _ends)
        {
            routed += _router.Route(_text.AsSpan(start, end - start)) ? 1 : 0;
            start = end;
        }

        _router.Flush(); // the end of a source's read

        return routed;
    }
}
