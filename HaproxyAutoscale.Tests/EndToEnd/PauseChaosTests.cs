using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>Chaos test g (issue 11): an operator pauses a backend during a load step; nothing is enabled until resume.</summary>
[Trait("Category", "Haproxy")]
public sealed class PauseChaosTests
{
    [Fact]
    public async Task Pause_DuringLoadStep_NothingEnabledUntilResume()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync();
        rig.Autoscaler.Pause("app").Should().BeTrue();

        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(45), load.Token);
        try
        {
            // The policy asks for a server, and the pause holds it back: in the decision log and in the snapshot.
            static bool HeldByPause((Microsoft.Extensions.Logging.LogLevel Level, int EventId, string Message) l) =>
                l.EventId == AutoscaleEventIds.HeldByGate && l.Message.StartsWith("app: hold (paused): ", StringComparison.Ordinal) && l.Message.Contains("but paused", StringComparison.Ordinal);
            await Poll.UntilAsync(() => rig.Logs.Count(HeldByPause) >= 5, TimeSpan.FromSeconds(20), "five scale-ups held back by the pause");
            BackendDecision? held = rig.Autoscaler.Snapshot().Single().LastDecision;
            held.Should().NotBeNull();
            held!.HeldBy.Should().Be("paused");
            held.Action.Should().Be(ScalingAction.Hold);
            held.Reason.Should().Contain("paused");

            (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
            (await rig.StatusOfAsync("s3")).Should().Be("MAINT");
            rig.Apps[1].Served.Should().BeEmpty("not even a warm-up starts while paused");
            rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.Decision, "a held decision is not an action");
            rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s2", ServerRole.Parked));

            rig.Autoscaler.Resume("app").Should().BeTrue();
            await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled once resumed");
            rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.Decision && l.Message.Contains("decided up s2", StringComparison.Ordinal));
        }
        finally
        {
            await load.CancelAsync();
            await loading;
        }
    }
}
