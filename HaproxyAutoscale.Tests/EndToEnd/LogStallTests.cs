using System.Diagnostics;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Chaos on the log path, against a real HAProxy and real apps: HAProxy logs through a UDP relay (a stand-in for
/// rsyslog) that dies or drops datagrams, while HAProxy's own counters go on counting.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class LogStallTests
{
    [Fact]
    public async Task RelayKilledUnderLoad_BackendBlind_NoServerLeaves_RelayBack_DecisionsResume()
    {
        using var meters = new MeterRecorder();
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(relay: true, build: (builder, _) => builder.UseMeterFactory(meters));
        TimeSpan counterInterval = rig.Options.CounterInterval;
        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(60), load.Token);
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled under load");
        await Poll.UntilAsync(() => meters.Latest("log_coverage", "app") > 0.9, TimeSpan.FromSeconds(10), "full coverage under load");

        // The relay dies; the load goes on. Within two counter readings the backend is blind, and says why.
        var stalled = Stopwatch.StartNew();
        rig.Relay!.Stop();
        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.BlindStarted), TimeSpan.FromSeconds(10), "the blind warning");
        TimeSpan detection = stalled.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"blind {detection.TotalMilliseconds:0} ms after the relay stopped (counterInterval {counterInterval.TotalMilliseconds:0} ms)");
        detection.Should().BeLessThan(2 * counterInterval + TimeSpan.FromSeconds(1), "blind within two counter readings (plus scheduling on a busy machine)");
        rig.Logs.Single(l => l.EventId == AutoscaleEventIds.BlindStarted).Message.Should().StartWith("app: blind: HAProxy counted ")
            .And.Contain("no scale-down until the logs are back").And.Contain("log relay");
        meters.Latest("log_coverage", "app").Should().BeLessThan(0.5);
        meters.Latest("backend_blind", "app").Should().Be(1);

        // Blind for longer than the idle period (2 s) and several evaluations: nothing leaves service.
        static bool IsHold((Microsoft.Extensions.Logging.LogLevel Level, int EventId, string Message) l) => l.EventId is AutoscaleEventIds.Hold or AutoscaleEventIds.HeldByGate;
        int evaluations = rig.Logs.Count(IsHold);
        await Poll.UntilAsync(() => rig.Logs.Count(IsHold) > evaluations + 15, TimeSpan.FromSeconds(15), "evaluations while blind");
        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.Decision && l.Message.Contains("decided down", StringComparison.Ordinal));
        (await rig.StatusOfAsync("s2")).Should().NotBe("MAINT");
        rig.Autoscaler.Snapshot().Single().Blind.Should().BeTrue();

        // The relay comes back: coverage recovers, the blind state ends once, and normal decisions resume: with the
        // load stopped, the idle rule drains s2 again.
        rig.Relay.Start();
        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.BlindEnded), TimeSpan.FromSeconds(10), "the logs to be back");
        await Poll.UntilAsync(() => meters.Latest("log_coverage", "app") > 0.5, TimeSpan.FromSeconds(10), "coverage to recover");
        rig.Logs.Count(l => l.EventId == AutoscaleEventIds.BlindStarted).Should().Be(1);
        await load.CancelAsync();
        await loading;
        await rig.WaitForStatusAsync("s2", s => s == "MAINT", "drained once idle");
        rig.Failed.Should().Be(0);
    }

    [Fact]
    public async Task HalfTheDatagramsDropped_CoverageAboutHalf_DecisionsContinue()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(relay: true, build: (_, rig) => rig.Options.Logs.MinCoverage = 0.3);
        rig.Relay!.DropEveryOther = true;
        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(30), load.Token);

        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled from half the logs");
        await Poll.UntilAsync(() => rig.Autoscaler.Snapshot().Single().Coverage is > 0.3 and < 0.7, TimeSpan.FromSeconds(10), "coverage about 0.5");
        rig.Autoscaler.Snapshot().Single().Blind.Should().BeFalse();
        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.BlindStarted);
        await load.CancelAsync();
        await loading;
    }
}
