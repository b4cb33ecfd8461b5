using System.Collections.Concurrent;
using System.Diagnostics;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>
/// <see cref="HttpWarmup"/> with its production HTTP handler against a real loopback server that answers as scripted.
/// Retry delays run on a fake clock that records every timer asked of it, so each delay is checked exactly and the
/// test advances the clock only once the warm-up is waiting on it. The per-attempt deadline is real time.
/// </summary>
public sealed class HttpWarmupTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static WarmupOptions Options(int attempts = 3, TimeSpan? timeout = null) => new()
    {
        Attempts = attempts,
        RetryDelay = TimeSpan.FromSeconds(1),
        Timeout = timeout ?? TimeSpan.FromSeconds(10),
    };

    [Fact]
    public async Task WarmUpAsync_AnswersOkFirstTime_SucceedsAfterOneAttemptWithoutDelay()
    {
        await using var app = new ScriptedApp(200);
        var time = new TimerRecordingTimeProvider();
        using var warmup = new HttpWarmup(Options(), time);

        WarmupResult result = await warmup.WarmUpAsync(app.Url, CancellationToken.None).WaitAsync(Patience);

        result.Should().Be(new WarmupResult(true, "200 after 1 attempt", TimeSpan.Zero));
        app.Requests.Should().ContainSingle().Which.Should().StartWith("GET /warmup HTTP/1.1").And.Contain("User-Agent: haproxy-autoscale-warmup/1");
        time.Timers.Should().BeEmpty("no retry delay before the first attempt");
    }

    [Fact]
    public async Task WarmUpAsync_503Twice_RetriesAfterTheRetryDelayThenTwiceIt_AndSucceedsOnTheThirdAttempt()
    {
        await using var app = new ScriptedApp(503, 503, 200);
        var time = new TimerRecordingTimeProvider();
        using var warmup = new HttpWarmup(Options(attempts: 3), time);

        Task<WarmupResult> warming = warmup.WarmUpAsync(app.Url, CancellationToken.None);
        await time.WaitForTimersAsync(1);
        time.Timers.Should().Equal(TimeSpan.FromSeconds(1));
        app.Requests.Should().HaveCount(1);
        time.Advance(TimeSpan.FromSeconds(1));

        await time.WaitForTimersAsync(2);
        time.Timers.Should().Equal(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        app.Requests.Should().HaveCount(2);
        time.Advance(TimeSpan.FromSeconds(2));

        WarmupResult result = await warming.WaitAsync(Patience);
        result.Should().Be(new WarmupResult(true, "200 after 3 attempts", TimeSpan.FromSeconds(3)));
        app.Requests.Should().HaveCount(3);
    }

    [Theory]
    [InlineData(404, 200, 399, false, "status 404 (1 attempt)")]
    [InlineData(500, 200, 399, false, "status 500 (1 attempt)")]
    [InlineData(302, 200, 399, true, "302 after 1 attempt")] // a redirect to a 404 page: not followed
    [InlineData(302, 200, 299, false, "status 302 (1 attempt)")]
    [InlineData(204, 200, 299, true, "204 after 1 attempt")]
    [InlineData(404, 200, 404, true, "404 after 1 attempt")]
    [InlineData(200, 201, 399, false, "status 200 (1 attempt)")]
    public async Task WarmUpAsync_Status_AcceptedOnlyWithinMinAndMaxStatus(int status, int minStatus, int maxStatus, bool succeeded, string reason)
    {
        await using var app = new ScriptedApp(status);
        WarmupOptions options = Options(attempts: 1);
        options.MinStatus = minStatus;
        options.MaxStatus = maxStatus;
        using var warmup = new HttpWarmup(options, new TimerRecordingTimeProvider());

        WarmupResult result = await warmup.WarmUpAsync(app.Url, CancellationToken.None).WaitAsync(Patience);

        result.Succeeded.Should().Be(succeeded);
        result.Reason.Should().Be(reason);
        app.Requests.Should().ContainSingle().Which.Should().StartWith("GET /warmup ", "a redirect is an answer, not something to follow");
    }

    [Fact]
    public async Task WarmUpAsync_404OnEveryAttempt_FailsAfterAllAttemptsNamingTheStatus()
    {
        await using var app = new ScriptedApp(404);
        var time = new TimerRecordingTimeProvider();
        using var warmup = new HttpWarmup(Options(attempts: 2), time);

        Task<WarmupResult> warming = warmup.WarmUpAsync(app.Url, CancellationToken.None);
        await time.WaitForTimersAsync(1);
        time.Advance(TimeSpan.FromSeconds(1));

        WarmupResult result = await warming.WaitAsync(Patience);
        result.Should().Be(new WarmupResult(false, "status 404 (2 attempts)", TimeSpan.FromSeconds(1)));
        app.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task WarmUpAsync_AppNeverAnswers_EachAttemptEndsAtItsDeadline_FailsWithNoAnswerWithin()
    {
        await using var app = new ScriptedApp(ScriptedApp.NeverAnswer);
        var time = new TimerRecordingTimeProvider();
        TimeSpan deadline = TimeSpan.FromMilliseconds(300);
        using var warmup = new HttpWarmup(Options(attempts: 2, timeout: deadline), time);
        var clock = Stopwatch.StartNew();

        Task<WarmupResult> warming = warmup.WarmUpAsync(app.Url, CancellationToken.None);
        await time.WaitForTimersAsync(1);
        TimeSpan firstAttempt = clock.Elapsed;
        app.Requests.Should().HaveCount(1);
        time.Advance(TimeSpan.FromSeconds(1));

        WarmupResult result = await warming.WaitAsync(Patience);
        clock.Stop();
        result.Should().Be(new WarmupResult(false, "no answer within 300ms (2 attempts)", TimeSpan.FromSeconds(1)));
        app.Requests.Should().HaveCount(2);
        // The runtime's timers may fire a millisecond or so before a Stopwatch says the time is up.
        TimeSpan timerSlack = TimeSpan.FromMilliseconds(15);
        firstAttempt.Should().BeGreaterThanOrEqualTo(deadline - timerSlack, "the attempt waits for its deadline");
        clock.Elapsed.Should().BeGreaterThanOrEqualTo(2 * (deadline - timerSlack)).And.BeLessThan(Patience);
    }

    [Fact]
    public async Task WarmUpAsync_NothingListening_FailsWithTheConnectionError()
    {
        var url = new Uri($"http://127.0.0.1:{Ports.FreeTcp()}/warmup");
        using var warmup = new HttpWarmup(Options(attempts: 1), new TimerRecordingTimeProvider());

        WarmupResult result = await warmup.WarmUpAsync(url, CancellationToken.None).WaitAsync(Patience);

        result.Succeeded.Should().BeFalse();
        result.Reason.Should().Be("Connection refused (1 attempt)");
    }

    [Theory]
    [InlineData(1)] // the last attempt: cancelled, not a failed warm-up
    [InlineData(3)]
    public async Task WarmUpAsync_CancelledDuringAnAttempt_ThrowsAtOnceAndTriesNoMore(int attempts)
    {
        await using var app = new ScriptedApp(ScriptedApp.NeverAnswer);
        var time = new TimerRecordingTimeProvider();
        using var warmup = new HttpWarmup(Options(attempts, timeout: TimeSpan.FromSeconds(30)), time);
        using var cancel = new CancellationTokenSource();

        Task<WarmupResult> warming = warmup.WarmUpAsync(app.Url, cancel.Token);
        await Poll.UntilAsync(() => app.Requests.Count == 1, Patience, "the first attempt to reach the app");
        await cancel.CancelAsync();

        // Well before the 30 s deadline of the attempt, and not reported as a timed-out attempt.
        await FluentActions.Awaiting(() => warming.WaitAsync(Patience)).Should().ThrowAsync<OperationCanceledException>();
        time.Timers.Should().BeEmpty("no retry was scheduled");
        app.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task WarmUpAsync_CancelledDuringTheRetryDelay_ThrowsAndTriesNoMore()
    {
        await using var app = new ScriptedApp(503);
        var time = new TimerRecordingTimeProvider();
        using var warmup = new HttpWarmup(Options(attempts: 3), time);
        using var cancel = new CancellationTokenSource();

        Task<WarmupResult> warming = warmup.WarmUpAsync(app.Url, cancel.Token);
        await time.WaitForTimersAsync(1);
        await cancel.CancelAsync();

        await FluentActions.Awaiting(() => warming.WaitAsync(Patience)).Should().ThrowAsync<OperationCanceledException>();
        time.Advance(TimeSpan.FromMinutes(1)); // the cancelled delay's timer is gone: this starts nothing either
        time.Timers.Should().HaveCount(1);
        app.Requests.Should().HaveCount(1);
    }

    /// <summary>A fake clock that also records the due time of every timer created on it (the warm-up's retry delays).</summary>
    private sealed class TimerRecordingTimeProvider : FakeTimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _timers = new();

        public TimerRecordingTimeProvider()
            : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
        {
        }

        public IReadOnlyList<TimeSpan> Timers => [.. _timers];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = base.CreateTimer(callback, state, dueTime, period);
            _timers.Enqueue(dueTime);
            return timer;
        }

        public Task WaitForTimersAsync(int count) =>
            Poll.UntilAsync(() => _timers.Count >= count, Patience, $"the warm-up to wait for retry delay {count}");
    }

    /// <summary>
    /// A real HTTP/1.1 server on 127.0.0.1: the n-th request gets the n-th scripted status (the last one repeats), or
    /// no answer at all for <see cref="NeverAnswer"/> (the connection stays open until the client gives up).
    /// </summary>
    private sealed class ScriptedApp : IAsyncDisposable
    {
        public const int NeverAnswer = 0;

        private readonly int[] _script;
        private readonly ConcurrentQueue<string> _requests = new();
        private readonly LoopbackHttpServer _server;
        private int _count;

        public ScriptedApp(params int[] script)
        {
            _script = script;
            _server = new LoopbackHttpServer(AnswerAsync);
            Url = new Uri($"http://127.0.0.1:{_server.Port}/warmup");
        }

        public Uri Url { get; }

        /// <summary>The head of every request received, in order.</summary>
        public IReadOnlyList<string> Requests => [.. _requests];

        public ValueTask DisposeAsync() => _server.DisposeAsync();

        private async Task<HttpAnswer?> AnswerAsync(string path, string head, CancellationToken stopping)
        {
            int status = _script[Math.Min(Interlocked.Increment(ref _count) - 1, _script.Length - 1)];
            _requests.Enqueue(head);
            if (status == NeverAnswer)
            {
                // Hold the connection until the client gives up (its deadline) or the app stops.
                await Task.Delay(Timeout.Infinite, stopping);
            }

            return new HttpAnswer(status, "ok", status is >= 300 and < 400 ? "Location: /missing\r\n" : "");
        }
    }
}
