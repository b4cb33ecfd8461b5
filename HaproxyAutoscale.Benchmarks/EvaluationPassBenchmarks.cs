using System.Diagnostics.Metrics;
using System.Text;
using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// One evaluation pass over every backend (issue 22): the scale rig's configuration (8 servers per backend, the default
/// policy) with a meter listener on, as the daemon with <c>--metrics</c>. <c>Idle</c>: no line between passes;
/// <c>Zipf</c>: one second of 100,000 lines/s spread over the backends by Zipf(1) before each pass (fed outside the
/// measurement); <c>idle-provider</c>: idle, every backend with a provider (its parked servers checked for keep-warm
/// at every pass; nothing is due). The clock moves 1 s per pass.
/// </summary>
[MemoryDiagnoser]
public class EvaluationPassBenchmarks
{
    private const int LinesPerPass = 100_000;
    private readonly ManualClock _clock = new();
    private MeterListener _listener = null!;
    private Autoscaler _autoscaler = null!;
    private RequestRecord[] _records = null!;
    private int[] _zipf = null!;

    [Params(10_000)]
    public int Backends { get; set; }

    [Params("idle", "zipf", "idle-provider")]
    public string Load { get; set; } = "idle";

    [GlobalSetup]
    public void Setup()
    {
        _listener = new MeterListener { InstrumentPublished = (instrument, listener) => { if (instrument.Meter.Name.StartsWith("HaproxyAutoscale", StringComparison.Ordinal)) { listener.EnableMeasurementEvents(instrument); } } };
        _listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        _listener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _listener.Start();
        _autoscaler = ScaleMeasurements.DryRunAutoscaler(Backends, _clock, provider: Load == "idle-provider");

        // One parsed line per backend (its s1, a 13 ms request), and the backends of a second's lines drawn by Zipf(1).
        var parser = new HaproxyLogParser(4 * Backends * 9);
        _records = new RequestRecord[Backends];
        for (int b = 0; b < Backends; b++)
        {
            parser.TryParse(Encoding.ASCII.GetBytes(ScaleMeasurements.Line(b)), out _records[b]);
        }

        _zipf = ScaleMeasurements.ZipfDraws(Backends, LinesPerPass);

        for (int pass = 0; pass < 70; pass++)
        {
            Feed();
            Pass(); // past the policies' first minute: their sample queues are full
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _autoscaler.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _listener.Dispose();
    }

    [IterationSetup]
    public void Feed()
    {
        _clock.Set(_clock.GetUtcNow().AddSeconds(1));
        if (Load != "zipf")
        {
            return;
        }

        IReadOnlyList<ScaledBackend> backends = _autoscaler.Backends;
        foreach (int b in _zipf)
        {
            ScaledBackend backend = backends[b];
            lock (backend.Gate)
            {
                backend.Decider.OnRecord(_records[b]);
            }
        }
    }

    [Benchmark]
    public void Pass() => _autoscaler.EvaluatePass(CancellationToken.None);
}
