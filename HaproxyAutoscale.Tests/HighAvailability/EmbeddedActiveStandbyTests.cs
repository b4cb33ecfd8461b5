using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.EndToEnd;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.HighAvailability;

/// <summary>
/// Active/standby in an embedded engine with a custom <see cref="ILeaderElection"/> (switched by the test), a real
/// HAProxy and real apps: the engine's side of the election, without etcd's timing.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class EmbeddedActiveStandbyTests
{
    [Fact]
    public async Task Standby_DecidesInShadow_ThenTakesOverAndActsWithItsEpoch_ThenStandsByAgain()
    {
        var election = new SwitchableElection();
        using var meters = new MeterRecorder();
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(build: (builder, _) => builder.UseLeaderElection(election).UseMeterFactory(meters));
        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(40), load.Token);
        try
        {
            // Standby: the decision is logged and counted as a standby's, nothing is sent.
            await Poll.UntilAsync(
                () => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.StandbyDecision && l.Message.StartsWith("app: standby decided up s2: ", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(20), "a standby decision to scale up");
            (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
            rig.Apps[1].Served.Should().BeEmpty("a standby does not even warm a server up");
            rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.Decision || l.EventId == AutoscaleEventIds.LeaderCommand);
            rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.StandingBy && l.Message.Contains("b leads (epoch 7)", StringComparison.Ordinal));
            meters.Latest("leader", "").Should().Be(0);
            election.Runs.Should().Be(1, "the autoscaler runs the election");

            // Leader: it takes over (AutoscaleEventIds.LeadershipGained) before its first command, and every command carries its epoch.
            election.State = new LeadershipState(true, 41, "a leads");
            await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled by the new leader");
            List<(Microsoft.Extensions.Logging.LogLevel Level, int EventId, string Message)> entries = [.. rig.Logs];
            int gained = entries.FindIndex(l => l.EventId == AutoscaleEventIds.LeadershipGained);
            int firstSent = entries.FindIndex(l => l.EventId == AutoscaleEventIds.LeaderCommand);
            gained.Should().BeInRange(0, firstSent - 1);
            entries.Where(l => l.EventId == AutoscaleEventIds.LeaderCommand).Should().OnlyContain(l => l.Message.Contains(": leader epoch 41 sends: ", StringComparison.Ordinal));
            entries.Should().Contain(l => l.EventId == AutoscaleEventIds.LeaderCommand && l.Message.EndsWith("sends: set server app/s2 state ready", StringComparison.Ordinal));
            meters.Latest("leader", "").Should().Be(1);

            // Standby again: announced, and the gauge follows.
            election.State = LeadershipState.Standby("b leads (epoch 42)");
            await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.StandingBy && l.Message.Contains("epoch 42", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "standing by again");
            meters.Latest("leader", "").Should().Be(0);
        }
        finally
        {
            await load.CancelAsync();
            await loading;
        }
    }
}
