using System.Diagnostics;
using System.Globalization;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Scale to zero end to end (<see cref="ScaleToZeroRig"/>: a real HAProxy, the shipped Lua script, the exec provider
/// starting a real python app with a 1 s cold start): a burst at zero is held and served, the backend goes back to zero
/// and its process is stopped; past the hold deadline, when the start fails, every held request gets a 503.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ScaleToZeroEndToEndTests
{
    private static readonly TimeSpan ColdStart = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task BurstAtZero_AllServedAfterTheColdStart_ThenBackToZero_ThreeCycles()
    {
        await using ScaleToZeroRig rig = await ScaleToZeroRig.StartAsync(holdSeconds: 20, ColdStart);
        await Poll.UntilAsync(() => rig.Snapshot.AtZero, TimeSpan.FromSeconds(20), "the backend at zero from the start");
        int baseline = await rig.SessionsAsync();
        var overheads = new List<double>();
        var total = Stopwatch.StartNew();
        for (int cycle = 1; cycle <= 3; cycle++)
        {
            List<(int Status, TimeSpan After, TimeSpan? RetryAfter)> answers = await rig.BurstAsync(50);
            answers.Select(a => a.Status).Should().AllBeEquivalentTo(200, $"cycle {cycle}: every held request is served (0: a reset)");

            // The up action's own duration is start + warm-up + enable: what the wake adds is the rest.
            await Poll.UntilAsync(() => rig.UpDurationsMs().Count >= cycle, TimeSpan.FromSeconds(10), "the scale-up's completion logged");
            int upMs = rig.UpDurationsMs()[cycle - 1];
            double firstMs = answers.Min(a => a.After).TotalMilliseconds;
            double overhead = firstMs - upMs;
            overheads.Add(overhead);
            // Its parts: burst → wake decision (client, HAProxy, Lua, the UDP log line), wake → enabled, enabled → first answer.
            double toWake = Stopwatch.GetElapsedTime(rig.BurstStarted, rig.EventTimes(AutoscaleEventIds.WakeStarted)[cycle - 1]).TotalMilliseconds;
            double toReady = Stopwatch.GetElapsedTime(rig.BurstStarted, rig.EventTimes(AutoscaleEventIds.WakeReady)[cycle - 1]).TotalMilliseconds;
            TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"cycle {cycle}: first answer after {firstMs:0} ms, last after {answers.Max(a => a.After).TotalMilliseconds:0} ms; start + warm-up + enable {upMs} ms; overhead {overhead:0} ms (wake decided at {toWake:0} ms, enabled at {toReady:0} ms)"));
            firstMs.Should().BeLessThanOrEqualTo(upMs + 2000, $"cycle {cycle}: the first answer soon after start + warm-up (300 ms on the median, below)");
            upMs.Should().BeGreaterThanOrEqualTo((int)ColdStart.TotalMilliseconds, "the app's cold start is in the scale-up");

            await Poll.UntilAsync(() => rig.Snapshot.AtZero && rig.Apps.Running().Count == 0, TimeSpan.FromSeconds(20), $"cycle {cycle}: back at zero, the app stopped");
            await Poll.UntilAsync(async () => await rig.SessionsAsync() == baseline, TimeSpan.FromSeconds(10), $"cycle {cycle}: HAProxy's streams back to {baseline}");
        }

        double median = overheads.Order().ElementAt(1);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"overhead beyond start + warm-up: median {median:0} ms; three cycles in {total.Elapsed.TotalSeconds:0.0} s"));

        // The median of three: one cycle slowed down by a loaded machine (tests run in parallel) does not decide it.
        median.Should().BeLessThanOrEqualTo(300, "the first answer within start + warm-up + 300 ms");
        rig.Apps.Starts("s1").Should().Be(3);
        rig.Apps.Stops("s1").Should().BeGreaterThanOrEqualTo(3);
        rig.Logs.Count(e => e.EventId == AutoscaleEventIds.WakeStarted).Should().Be(3, "one wake decision per cycle, however many wake lines");
        rig.Logs.Count(e => e.EventId == AutoscaleEventIds.WakeReady).Should().Be(3);
        rig.Logs.Should().NotContain(e => e.EventId == AutoscaleEventIds.WakeUnknownBackend);
    }

    [Fact]
    public async Task StartFails_HeldRequestsGet503WithRetryAfterPastTheDeadline_ServerBackedOff_NothingRunning()
    {
        await using ScaleToZeroRig rig = await ScaleToZeroRig.StartAsync(holdSeconds: 3, ColdStart);
        await Poll.UntilAsync(() => rig.Snapshot.AtZero, TimeSpan.FromSeconds(20), "the backend at zero from the start");
        rig.Apps.SetMode("fail");

        List<(int Status, TimeSpan After, TimeSpan? RetryAfter)> answers = await rig.BurstAsync(10);
        answers.Select(a => a.Status).Should().AllBeEquivalentTo(503);
        answers.Select(a => a.RetryAfter).Should().AllBeEquivalentTo(TimeSpan.FromSeconds(5));
        answers.Max(a => a.After).Should().BeLessThan(TimeSpan.FromSeconds(3 + 1), "503 within the hold deadline + 1 s");
        answers.Min(a => a.After).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(2.9), "held until the deadline");

        rig.Logs.Should().Contain(e => e.EventId == AutoscaleEventIds.ActionFailed && e.Message.Contains("app/s1: up failed", StringComparison.Ordinal)
            && e.Message.Contains("simulated failure", StringComparison.Ordinal) && e.Message.Contains("retried after 30s", StringComparison.Ordinal));
        rig.Logs.Should().Contain(e => e.EventId == AutoscaleEventIds.WakeFailed);
        rig.Logs.Should().Contain(e => e.EventId == AutoscaleEventIds.WakeNotActedOn && e.Message.Contains("failure back-off", StringComparison.Ordinal),
            "the wake lines repeated while held find s1 in its back-off");
        await Poll.UntilAsync(() => rig.Apps.Running().Count == 0, TimeSpan.FromSeconds(10), "nothing left running");
        rig.Snapshot.Servers.Single().Role.Should().Be(ServerRole.Parked);
        rig.Snapshot.AtZero.Should().BeTrue();
    }
}
