using System.Threading.Channels;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>The periodic loops start their work right after an evaluation pass (the heartbeat's beat), not at any time.</summary>
public sealed class PeriodicTests
{
    private static readonly TimeSpan Evaluation = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Real = TimeSpan.FromSeconds(10); // how long a test waits for what must happen
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly Heartbeat _beats = new(() => Evaluation);

    [Fact]
    public async Task NextBeat_IsAtOnce_WhenAPassEndedSince()
    {
        DateTimeOffset since = _time.GetUtcNow();
        _beats.Beat(since);

        Task next = _beats.NextBeatAsync(since, _time, TestContext.Current.CancellationToken);

        Assert.True(next.IsCompletedSuccessfully);
        await next;
    }

    [Fact]
    public async Task NextBeat_WaitsForThePassThatEnds()
    {
        _beats.Beat(_time.GetUtcNow());
        _time.Advance(TimeSpan.FromMilliseconds(300));

        Task next = _beats.NextBeatAsync(_time.GetUtcNow(), _time, TestContext.Current.CancellationToken);
        Assert.False(next.IsCompleted); // the beat before does not count

        _beats.Beat(_time.GetUtcNow());
        await next.WaitAsync(Real, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task NextBeat_GivesUpAfterOneInterval_WhenTheEvaluationLoopStalls()
    {
        Task next = _beats.NextBeatAsync(_time.GetUtcNow(), _time, TestContext.Current.CancellationToken);

        _time.Advance(Evaluation - TimeSpan.FromMilliseconds(1));
        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await next.WaitAsync(Real, TestContext.Current.CancellationToken); // completes without a beat, and does not throw
    }

    [Fact]
    public async Task RunAsync_StartsADuePassRightAfterTheNearestEvaluationPass()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var passes = Channel.CreateUnbounded<DateTimeOffset>();
        DateTimeOffset start = _time.GetUtcNow();
        Task loop = Periodic.RunAsync(TimeSpan.FromSeconds(2), _ => { passes.Writer.TryWrite(_time.GetUtcNow()); return Task.CompletedTask; }, _beats, _time, stop.Token);

        // An evaluation pass ends at 1.8 s: the counter pass due at 2 s starts then, not in the next pass's way.
        _time.Advance(TimeSpan.FromSeconds(1.8));
        _beats.Beat(_time.GetUtcNow());
        DateTimeOffset first = await passes.Reader.ReadAsync(stop.Token).AsTask().WaitAsync(Real, TestContext.Current.CancellationToken);
        Assert.Equal(TimeSpan.FromSeconds(1.8), first - start);

        await stop.CancelAsync();
        await loop.WaitAsync(Real, TestContext.Current.CancellationToken);
    }
}
