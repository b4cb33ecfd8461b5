using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Servers started and stopped through the exec provider, as real processes behind a real HAProxy: a load step starts
/// one, warms it before any user request and enables it; without load it is drained, kept warm, then stopped.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ProviderEndToEndTests
{
    private const string WarmupAgent = "haproxy-autoscale-warmup/1 /warmup";

    [Fact]
    public async Task LoadStep_StartsWarmsAndEnables_ThenDrainsKeepsWarmAndStops()
    {
        await using ProviderRig rig = await ProviderRig.StartAsync(keepWarm: TimeSpan.FromSeconds(3));
        rig.StartAutoscaler();
        await rig.WaitAsync(() => rig.LifecycleOf("s2") == ServerLifecycleState.Stopped, "s2 adopted as stopped (its status said so)");
        rig.Apps.PidOf("s2").Should().BeNull();

        // Load step: s2 is started, warmed up, then enabled.
        using (var slow = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/slow", 4, TimeSpan.FromSeconds(40), slow.Token);
            await rig.WaitAsync(async () => await rig.StatusOfAsync("s2") is { } status && !status.StartsWith("MAINT", StringComparison.Ordinal), "s2 enabled");
            await rig.WaitAsync(() => rig.Apps.Requests("s2").Any(r => r.EndsWith("/slow", StringComparison.Ordinal)), "s2 to take user traffic");
            await slow.CancelAsync();
            await load;
        }

        rig.Apps.Starts("s2").Should().Be(1);
        rig.Apps.Requests("s2")[0].Should().Be(WarmupAgent, "the warm-up reaches the new process before any user request");
        rig.LifecycleOf("s2").Should().Be(ServerLifecycleState.Active);
        rig.Logs.Should().Contain(e => e.EventId == AutoscaleEventIds.ServerStarted && e.Message.StartsWith("app/s2: started through the exec provider", StringComparison.Ordinal));

        // Fast answers: s2 drains into maintenance and is kept warm: a re-up within keepWarm starts nothing.
        await DownAsync(rig);
        rig.Apps.PidOf("s2").Should().NotBeNull("a parked server is kept warm");
        using (var slow = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/slow", 4, TimeSpan.FromSeconds(40), slow.Token);
            await rig.WaitAsync(async () => await rig.StatusOfAsync("s2") is { } status && !status.StartsWith("MAINT", StringComparison.Ordinal), "s2 enabled again");
            await slow.CancelAsync();
            await load;
        }

        rig.Apps.Starts("s2").Should().Be(1, "re-enabled within keepWarm: no cold start");

        // Down again, and this time nothing calls it back: stopped once kept warm for keepWarm.
        await DownAsync(rig);
        DateTime parked = DateTime.UtcNow;
        await rig.WaitAsync(() => rig.Apps.PidOf("s2") is null, "s2 stopped after keepWarm");
        (DateTime.UtcNow - parked).Should().BeGreaterThan(TimeSpan.FromSeconds(2), "it was kept warm for keepWarm (3 s) first");
        await rig.WaitAsync(() => rig.LifecycleOf("s2") == ServerLifecycleState.Stopped, "s2 reported stopped");
        rig.Apps.Stops("s2").Should().Be(1);
        rig.Logs.Should().Contain(e => e.EventId == AutoscaleEventIds.ServerStopped && e.Message.Contains("app/s2: stopped through the exec provider", StringComparison.Ordinal)
            && e.Message.Contains("parked and kept warm for", StringComparison.Ordinal));
        rig.Failed.Should().Be(0);
    }

    [Theory]
    [InlineData("fail")]
    [InlineData("hang")]
    public async Task StartFailsOrHangs_ParkedWithBackoff_NothingLeftRunning(string mode)
    {
        await using ProviderRig rig = await ProviderRig.StartAsync(keepWarm: TimeSpan.FromSeconds(30), providerTimeout: TimeSpan.FromSeconds(2));
        int s1 = rig.Apps.PidOf("s1")!.Value;
        rig.Apps.SetMode(mode);
        rig.StartAutoscaler();
        using var slow = new CancellationTokenSource();
        Task load = rig.LoadAsync("/slow", 4, TimeSpan.FromSeconds(40), slow.Token);

        await rig.WaitAsync(() => rig.Logs.Any(e => e.EventId == AutoscaleEventIds.ActionFailed && e.Message.StartsWith("app/s2: up failed", StringComparison.Ordinal)), "the scale-up to fail");
        await rig.WaitAsync(() => rig.Apps.Running().SequenceEqual([s1]), "the app the failed start launched to be stopped");
        await rig.WaitAsync(() => rig.LifecycleOf("s2") == ServerLifecycleState.Stopped, "s2 back to stopped");
        (await rig.StatusOfAsync("s2")).Should().StartWith("MAINT");

        // The back-off (30 s) keeps it from being started again at once, though the load still calls for it: five more
        // evaluations after the failure (about a second) start nothing.
        await rig.WaitAsync(() => EvaluationEvents.After(rig.Logs, e => e.EventId == AutoscaleEventIds.ActionFailed) >= 5, "five evaluations after the failed start");
        rig.Apps.Starts("s2").Should().Be(1);
        rig.Logs.Should().Contain(e => e.EventId == AutoscaleEventIds.ActionFailed && e.Message.Contains("retried after 30s", StringComparison.Ordinal));
        await slow.CancelAsync();
        await load;
    }

    // Fast answers until s2 is parked (in maintenance, lifecycle parked).
    private static async Task DownAsync(ProviderRig rig)
    {
        using var fast = new CancellationTokenSource();
        Task load = rig.LoadAsync("/fast", 2, TimeSpan.FromSeconds(40), fast.Token);
        await rig.WaitAsync(async () => await rig.StatusOfAsync("s2") is { } status && status.StartsWith("MAINT", StringComparison.Ordinal), "s2 in maintenance");
        await rig.WaitAsync(() => rig.LifecycleOf("s2") == ServerLifecycleState.Parked, "s2 parked");
        await fast.CancelAsync();
        await load;
    }
}
