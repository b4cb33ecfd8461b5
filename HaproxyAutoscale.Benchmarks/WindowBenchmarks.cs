using BenchmarkDotNet.Attributes;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>Cost of one Add followed by one Evaluate for each window kind, with its default settings.</summary>
[MemoryDiagnoser]
public class WindowBenchmarks
{
    private readonly SteppingClock _clock = new();
    private IResponseTimeWindow _window = null!;
    private int _sample;

    [Params("count/mean", "count/p95", "time/mean", "time/p95", "ewma/mean")]
    public string Window { get; set; } = "count/mean";

    [GlobalSetup]
    public void Setup()
    {
        string[] parts = Window.Split('/');
        _window = ResponseTimeWindows.Create(
            new WindowOptions { Kind = parts[0], Statistic = Enum.Parse<WindowStatistic>(parts[1], ignoreCase: true) },
            _clock);
        for (int i = 0; i < 10_000; i++)
        {
            AddAndEvaluate();
        }
    }

    [Benchmark]
    public double AddAndEvaluate()
    {
        _clock.Step(); // 1 ms per sample: a busy backend
        _window.Add(_sample = (_sample + 37) % 1000);
        return _window.Evaluate().Value;
    }

    private sealed class SteppingClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 26, 15, 0, 0, TimeSpan.Zero);

        public void Step() => _now = _now.AddMilliseconds(1);

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
