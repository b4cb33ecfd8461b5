using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// The <c>concurrency</c> policy and the engine's behaviour against a real HAProxy: eight clients in flight on one
/// server panic it up to all servers in one decision; when the load stops, the idle rule drains them one at a time,
/// the second one held by <c>behavior.down.cooldown</c> (event 23) until the first drain completed 3 s before.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ConcurrencyPolicyEndToEndTests
{
    [Fact]
    public async Task Concurrency_BurstOnOneServer_PanicsUpToAllAtOnce_ThenDownPacedByTheCooldown()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(backend =>
        {
            backend.Policy.Kind = ScalingPolicyNames.Concurrency;
            backend.Policy.Settings.Clear();
            backend.Policy.Settings["targetInFlight"] = "2";
            backend.Policy.Settings["stableWindow"] = "6s";
            backend.Policy.Settings["panicWindow"] = "1s";
            backend.Policy.Settings["scaleDownStabilization"] = "2s";
            backend.Policy.Settings["idleScaleDown"] = "2s";
            backend.Behavior.Down.Cooldown = TimeSpan.FromSeconds(3);
        });

        using var load = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(30), load.Token);
        try
        {
            await Poll.UntilAsync(() => rig.Logs.Count(l => l.EventId == AutoscaleEventIds.Decision) >= 2, TimeSpan.FromSeconds(20), "two scale-up decisions");
            string[] ups = [.. rig.Logs.Where(l => l.EventId == AutoscaleEventIds.Decision).Select(l => l.Message)];
            ups[0].Should().StartWith("app: decided up s2: panic: in-flight ", "eight in flight on one server ask for four at once");
            ups[1].Should().StartWith("app: decided up s3: ");
            await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled");
            await rig.WaitForStatusAsync("s3", s => s != "MAINT", "enabled");
        }
        finally
        {
            await load.CancelAsync();
            await loading;
        }

        // No requests: the idle rule asks for one down per 2 s; the second waits for the cooldown after the first.
        await rig.WaitForStatusAsync("s3", s => s == "MAINT", "drained");
        await rig.WaitForStatusAsync("s2", s => s == "MAINT", "drained");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.HeldByGate && l.Message.StartsWith("app: hold (cooldown): no request for ", StringComparison.Ordinal)
            && l.Message.Contains(", but in down cooldown ", StringComparison.Ordinal));
        rig.Logs.Count(l => l.EventId == AutoscaleEventIds.ActionCompleted && l.Message.Contains(": down done", StringComparison.Ordinal)).Should().Be(2);
        rig.Failed.Should().Be(0);
    }
}
