using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Windows;

public sealed class ResponseTimeWindowTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 15, 0, 0, TimeSpan.Zero));

    private IResponseTimeWindow Create(string kind, WindowStatistic statistic = WindowStatistic.Mean, int size = 15) =>
        ResponseTimeWindows.Create(new WindowOptions { Kind = kind, Statistic = statistic, Size = size, Duration = TimeSpan.FromSeconds(30), HalfLife = TimeSpan.FromSeconds(10) }, _time);

    [Theory]
    [InlineData(WindowKinds.Count)]
    [InlineData(WindowKinds.Time)]
    [InlineData(WindowKinds.Ewma)]
    public void Evaluate_NoSample_IsEmptyNotZero(string kind)
    {
        WindowValue value = Create(kind).Evaluate();
        value.HasValue.Should().BeFalse();
        value.Should().Be(WindowValue.Empty);
    }

    [Fact]
    public void CountWindow_Default15_MeanOfTheLast15Samples()
    {
        IResponseTimeWindow window = ResponseTimeWindows.Create(new WindowOptions(), _time);
        for (int i = 1; i <= 20; i++)
        {
            window.Add(i * 10);
        }

        // Samples 6..20 remain: mean of 60..200.
        window.Evaluate().Should().Be(new WindowValue(130, 15));
    }

    [Theory]
    [InlineData(WindowStatistic.P50, 50)]
    [InlineData(WindowStatistic.P90, 90)]
    [InlineData(WindowStatistic.P95, 100)]
    [InlineData(WindowStatistic.P99, 100)]
    [InlineData(WindowStatistic.Max, 100)]
    public void CountAndTimeWindows_Percentiles_NearestRank(WindowStatistic statistic, double expected)
    {
        foreach (string kind in new[] { WindowKinds.Count, WindowKinds.Time })
        {
            IResponseTimeWindow window = Create(kind, statistic, size: 10);
            foreach (int sample in new[] { 100, 10, 90, 20, 80, 30, 70, 40, 60, 50 })
            {
                window.Add(sample);
            }

            window.Evaluate().Value.Should().Be(expected, kind);
        }
    }

    [Fact]
    public void TimeWindow_SamplesExpireWithoutNewSamples()
    {
        IResponseTimeWindow window = Create(WindowKinds.Time);
        window.Add(100);
        _time.Advance(TimeSpan.FromSeconds(20));
        window.Add(300);
        window.Evaluate().Should().Be(new WindowValue(200, 2));

        _time.Advance(TimeSpan.FromSeconds(12)); // the first sample is now older than 30 s
        window.Evaluate().Should().Be(new WindowValue(300, 1));

        _time.Advance(TimeSpan.FromSeconds(30));
        window.Evaluate().HasValue.Should().BeFalse();
    }

    [Fact]
    public void TimeWindow_ManySamples_KeepsExactMeanAndMax()
    {
        IResponseTimeWindow mean = Create(WindowKinds.Time);
        IResponseTimeWindow max = Create(WindowKinds.Time, WindowStatistic.Max);
        for (int i = 0; i < 100_000; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(1));
            mean.Add(i % 100);
            max.Add(i % 100);
        }

        // The last 27-30 s hold whole 0..99 cycles: mean 49.5.
        mean.Evaluate().Value.Should().BeApproximately(49.5, 0.01);
        max.Evaluate().Value.Should().Be(99);
    }

    [Fact]
    public void EwmaWindow_HalfLife_WeighsOlderSamplesHalf()
    {
        IResponseTimeWindow window = Create(WindowKinds.Ewma);
        window.Add(100);
        window.Evaluate().Value.Should().Be(100);
        _time.Advance(TimeSpan.FromSeconds(10));
        window.Add(200);

        // (100 × 0.5 + 200) / (0.5 + 1)
        window.Evaluate().Value.Should().BeApproximately(166.667, 0.001);

        _time.Advance(TimeSpan.FromSeconds(100));
        window.Evaluate().HasValue.Should().BeFalse("a lone old sample has decayed away");
    }

    [Fact]
    public void EwmaWindow_BurstAtOneInstant_CountsEverySample()
    {
        IResponseTimeWindow window = Create(WindowKinds.Ewma);
        window.Add(100);
        window.Add(300);
        window.Evaluate().Should().Be(new WindowValue(200, 2));
    }

    [Fact]
    public void Create_EwmaWithPercentile_IsRejected() =>
        FluentActions.Invoking(() => Create(WindowKinds.Ewma, WindowStatistic.P95)).Should().Throw<ArgumentException>();

    [Fact]
    public void Add_SteadyState_AllocatesNothing()
    {
        foreach (string kind in new[] { WindowKinds.Count, WindowKinds.Time, WindowKinds.Ewma })
        {
            IResponseTimeWindow window = Create(kind, kind == WindowKinds.Ewma ? WindowStatistic.Mean : WindowStatistic.P95);
            for (int i = 0; i < 50; i++)
            {
                // Warm-up: the first sort of several samples creates the runtime's sort helper once.
                window.Add(i);
                window.Evaluate();
            }

            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                window.Add(i);
                window.Evaluate();
            }

            (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, kind);
        }
    }

    [Fact]
    public void SampleOf_Timers_AndMinusOneWhenAPhaseDidNotHappen()
    {
        var record = new RequestRecord { QueueTime = 2, ConnectTime = 3, ResponseTime = 40, TotalTime = 50 };
        ResponseTimeWindows.SampleOf(record, ResponseTimer.Tr).Should().Be(40);
        ResponseTimeWindows.SampleOf(record, ResponseTimer.Ta).Should().Be(50);
        ResponseTimeWindows.SampleOf(record, ResponseTimer.TwTcTr).Should().Be(45);
        var aborted = new RequestRecord { QueueTime = 0, ConnectTime = -1, ResponseTime = -1, TotalTime = 3 };
        ResponseTimeWindows.SampleOf(aborted, ResponseTimer.Tr).Should().Be(-1);
        ResponseTimeWindows.SampleOf(aborted, ResponseTimer.TwTcTr).Should().Be(-1);
    }
}
