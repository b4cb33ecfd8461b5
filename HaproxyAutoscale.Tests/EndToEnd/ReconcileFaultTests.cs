using HaproxyAutoscale.Control;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Faults on the reconcile path against a real HAProxy (commands fail or throw on their way to it): the state
/// HAProxy should have is applied until it went through, and nothing is mistaken for an operator's maintenance.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ReconcileFaultTests
{
    private static HaproxyControlException Timeout(string endpoint, string command) =>
        new(HaproxyErrorKind.Timeout, endpoint, command, "no answer within 2s (injected)");

    [Fact]
    public async Task Restart_ReapplyFailsOnce_AppliedAtTheNextPass_NotTakenForAnOperator()
    {
        var policy = new SteeredPolicy();
        FaultInjectingControl? control = null;
        await using AutoscaleRig rig = await StartAsync(policy, c => control = c);
        policy.Next(ScalingDecision.Up(1, "test"));
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled");

        // HAProxy restarts (s2 is "disabled" in its configuration again) and the first re-apply of s2 times out.
        control!.Fault = FaultInjectingControl.Once(c => c.StartsWith("set server app/s2 state ready", StringComparison.Ordinal), c => Timeout(rig.Endpoint, c));
        await rig.Haproxy.StopAsync();
        await rig.Haproxy.StartAsync(waitForSocket: rig.Endpoint); // the old socket file refuses connections until the new one replaces it
        await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);

        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "re-enabled at the next pass");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ReconcileFailed && l.Message.Contains("injected", StringComparison.Ordinal));
        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.HeldByOperator);
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s2", ServerRole.Active));
    }

    [Fact]
    public async Task Drain_MaintenanceCommandFails_ServerTakenBackIntoServiceNotLeftDraining()
    {
        var policy = new SteeredPolicy();
        FaultInjectingControl? control = null;
        await using AutoscaleRig rig = await StartAsync(policy, c => control = c);
        policy.Next(ScalingDecision.Up(1, "test"));
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled");

        // The maintenance command times out until the drain's deadline (1 s) has passed: the scale-down fails.
        control!.Fault = c => c.StartsWith("set server app/s2 state maint", StringComparison.Ordinal) ? Timeout(rig.Endpoint, c) : null;
        policy.Next(ScalingDecision.Down(1, "test"));
        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.ActionFailed && l.Message.StartsWith("app/s2: down failed", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), "the failed scale-down");
        control.Fault = _ => null;

        // The action left s2 draining in HAProxy while the autoscaler counts it active: reconcile applies "ready" again.
        await rig.WaitForStatusAsync("s2", s => s is not ("DRAIN" or "MAINT"), "back in service");
        (await rig.Control.ShowServersStateAsync("app")).Single(s => s.Server == "s2").AdminState.Should().Be(ServerAdminState.Ready);
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s2", ServerRole.Active));
        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.HeldByOperator);
    }

    [Fact]
    public async Task Reads_ThrowAnUnexpectedException_Contained_AutoscalerKeepsRunning()
    {
        var policy = new SteeredPolicy();
        FaultInjectingControl? control = null;
        await using AutoscaleRig rig = await StartAsync(policy, c => control = c);
        control!.Fault = c => c.StartsWith("show", StringComparison.Ordinal) ? new IOException("read bug") : null;

        await Poll.UntilAsync(() => rig.Logs.Count(l => l.EventId == AutoscaleEventIds.ExtensionFailed && l.Message.Contains("control threw IOException: read bug", StringComparison.Ordinal)) >= 2,
            TimeSpan.FromSeconds(10), "contained read failures");
        rig.Running.IsCompleted.Should().BeFalse("a custom control's bug on a read does not stop the autoscaler");

        control.Fault = _ => null;
        policy.Next(ScalingDecision.Up(1, "test"));
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled once reads work again");
    }

    private static Task<AutoscaleRig> StartAsync(SteeredPolicy policy, Action<FaultInjectingControl> control) =>
        AutoscaleRig.StartAsync(
            backend =>
            {
                backend.Policy.Kind = SteeredPolicy.Name;
                backend.Policy.Settings.Clear();
                backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(1);
            },
            build: (builder, rig) =>
            {
                builder.Policies.Add(SteeredPolicy.Name, _ => policy);
                builder.UseWarmup(new InstantWarmup());
                var faulty = new FaultInjectingControl(HaproxyControl.Create(rig.Endpoint));
                rig.Own(faulty);
                builder.UseControl(faulty);
                control(faulty);
            },
            configureOptions: options => options.Warmup.FailureBackoff = TimeSpan.FromMilliseconds(200));

    // Decides what the test tells it once, then holds.
    private sealed class SteeredPolicy : IScalingPolicy
    {
        public const string Name = "steered";

        private readonly Lock _gate = new();
        private ScalingDecision? _next;

        public void Next(ScalingDecision decision)
        {
            lock (_gate)
            {
                _next = decision;
            }
        }

        public ScalingDecision Decide(ScalingContext context)
        {
            lock (_gate)
            {
                ScalingDecision decision = _next ?? ScalingDecision.Hold("steered: nothing to do");
                _next = null;
                return decision;
            }
        }
    }

    private sealed class InstantWarmup : IWarmup
    {
        public Task<WarmupResult> WarmUpAsync(Uri url, CancellationToken cancellationToken) => Task.FromResult(new WarmupResult(true, "test", TimeSpan.Zero));
    }
}
