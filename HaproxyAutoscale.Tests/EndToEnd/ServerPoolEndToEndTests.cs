using HaproxyAutoscale.Control;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// A backend that grows beyond haproxy.cfg: pool servers started through the exec provider, added with
/// <c>add server</c>, warmed, enabled; drained, deleted with <c>del server</c> and stopped on the way down; added again
/// after HAProxy lost them in a restart.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ServerPoolEndToEndTests
{
    [Fact]
    public async Task Pool_GrowsToMaxAndShrinksBack_EveryAddedServerDeleted_NoRequestFailed()
    {
        await using ProviderRig rig = await ProviderRig.StartAsync(keepWarm: TimeSpan.Zero, pool: 3);
        int s1 = rig.Apps.PidOf("s1")!.Value;
        rig.StartAutoscaler();
        await rig.WaitAsync(() => rig.LifecycleOf("auto3") == ServerLifecycleState.Stopped, "pool slots reported stopped");
        string[] added = ["s2", "auto1", "auto2", "auto3"];

        using (var slow = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/slow", 8, TimeSpan.FromSeconds(60), slow.Token);
            await rig.WaitAsync(async () => (await rig.StatsAsync()).Count(r => added.Contains(r.Server) && !r.Status.StartsWith("MAINT", StringComparison.Ordinal)) == 4,
                "s2 and the three pool servers in service", seconds: 45);
            await slow.CancelAsync();
            await load;
        }

        foreach (string server in added)
        {
            rig.Apps.Starts(server).Should().Be(1, server);
            rig.Apps.Requests(server)[0].Should().Be("haproxy-autoscale-warmup/1 /warmup", $"{server} is warmed before any user request");
            rig.LifecycleOf(server).Should().Be(ServerLifecycleState.Active);
        }

        IReadOnlyList<ServerState> states = await rig.Control.ShowServersStateAsync("app");
        // Each added server at the address its app got, in any order: the servers are added as their concurrent starts
        // finish (CI saw auto3 listed before auto2).
        states.Where(s => s.Server.StartsWith("auto", StringComparison.Ordinal)).Select(s => $"{s.Server} {s.Address}:{s.Port}")
            .Should().BeEquivalentTo(rig.Autoscaler.Snapshot().Single().Servers.Where(s => s.Name.StartsWith("auto", StringComparison.Ordinal)).Select(s => $"{s.Name} {s.Address}"));
        rig.Logs.Count(e => e.EventId == AutoscaleEventIds.ServerAdded).Should().Be(3);

        // Fast answers with traffic flowing: one server at a time is drained, deleted (pool) and stopped.
        using (var fast = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/fast", 3, TimeSpan.FromSeconds(60), fast.Token);
            await rig.WaitAsync(async () => !(await rig.Control.ShowServersStateAsync("app")).Any(s => s.Server.StartsWith("auto", StringComparison.Ordinal))
                && await rig.StatusOfAsync("s2") is { } s2 && s2.StartsWith("MAINT", StringComparison.Ordinal), "every pool server deleted and s2 parked", seconds: 45);
            await rig.WaitAsync(() => rig.Apps.Running().SequenceEqual([s1]), "every started process stopped");
            await fast.CancelAsync();
            await load;
        }

        rig.Logs.Count(e => e.EventId == AutoscaleEventIds.ServerDeleted).Should().Be(3);
        await rig.WaitAsync(() => added.All(s => rig.LifecycleOf(s) == ServerLifecycleState.Stopped), "every server reported stopped");
        foreach (string server in added)
        {
            rig.Apps.Stops(server).Should().Be(1, server);
        }

        rig.Succeeded.Should().BeGreaterThan(100);
        rig.Failed.Should().Be(0, "draining before del server loses no request");
    }

    [Fact]
    public async Task Pool_HaproxyRestartedThenAutoscalerRestarted_AddedBackThenAdoptedThenDeleted()
    {
        await using ProviderRig rig = await ProviderRig.StartAsync(keepWarm: TimeSpan.FromSeconds(1), pool: 1);
        rig.StartAutoscaler();
        using (var slow = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/slow", 6, TimeSpan.FromSeconds(60), slow.Token);
            await rig.WaitAsync(async () => await rig.StatusOfAsync("auto1") is { } status && !status.StartsWith("MAINT", StringComparison.Ordinal), "auto1 in service", seconds: 45);
            await slow.CancelAsync();
            await load;
        }

        string address = rig.Autoscaler.Snapshot().Single().Servers.Single(s => s.Name == "auto1").Address!;
        await rig.RestartHaproxyAsync();
        (await rig.StatusOfAsync("auto1")).Should().BeNull("a restarted HAProxy has only haproxy.cfg's servers");

        await rig.WaitAsync(async () => await rig.StatusOfAsync("auto1") is { } status && !status.StartsWith("MAINT", StringComparison.Ordinal), "auto1 added back and in service");
        ServerState auto1 = (await rig.Control.ShowServersStateAsync("app")).Single(s => s.Server == "auto1");
        $"{auto1.Address}:{auto1.Port}".Should().Be(address);
        rig.Apps.Starts("auto1").Should().Be(1, "the running process is added back, not started again");
        rig.Logs.Should().Contain(e => e.EventId == AutoscaleEventIds.ServerAdded && e.Message.Contains("lost it", StringComparison.Ordinal));

        // A new autoscaler finds auto1 in HAProxy: adopted with its address, and deleted and stopped when not needed.
        await rig.StopAutoscalerAsync();
        rig.StartAutoscaler();
        await rig.WaitAsync(() => rig.Autoscaler.Snapshot().Single().Servers.Single(s => s.Name == "auto1") is { Lifecycle: ServerLifecycleState.Active } adopted
            && adopted.Address == address, "auto1 adopted as active at its address");
        using (var fast = new CancellationTokenSource())
        {
            Task load = rig.LoadAsync("/fast", 2, TimeSpan.FromSeconds(60), fast.Token);
            await rig.WaitAsync(() => rig.Apps.PidOf("auto1") is null, "auto1 stopped", seconds: 45);
            await fast.CancelAsync();
            await load;
        }

        (await rig.StatusOfAsync("auto1")).Should().BeNull("deleted from HAProxy before it was stopped");
        rig.Apps.Starts("auto1").Should().Be(1);
    }
}
