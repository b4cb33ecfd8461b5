using HaproxyAutoscale.Control;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Faults from outside the autoscaler, with a real HAProxy and real apps: HAProxy killed during a drain, the admin
/// socket unreachable for a while, the `run` daemon SIGKILLed during a warm-up.
/// Each asserts what an operator would check afterwards: HAProxy's state is what the autoscaler believes, no server
/// is left in drain, nothing half done.
/// </summary>
public sealed class ChaosTests
{
    [Fact]
    public async Task Drain_HaproxyKilledAndRestarted_ServerEndsInMaintenanceNoneLeftInDrain()
    {
        // Only s2 may be enabled (s1 always up, at most 2 active); a drain waits up to 60 s for sessions to end.
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(
            backend =>
            {
                backend.MaxActive = 2;
                backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(60);
            },
            serverTimeout: "60s");

        using (var load = new CancellationTokenSource())
        {
            Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(20), load.Token);
            await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled under load");
            await load.CancelAsync();
            await loading;
        }

        // A slow request in flight on s2 keeps its drain going once the idle rule (2 s) takes it down.
        rig.Apps[1].BaseDelay = TimeSpan.FromSeconds(60);
        using var slow = new CancellationTokenSource();
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        Task[] requests = [.. Enumerable.Range(0, 4).Select(_ => SendIgnoringFailureAsync(http, $"http://127.0.0.1:{rig.FrontendPort}/slow", slow.Token))];
        try
        {
            await Poll.UntilAsync(() => SessionsOn(rig, "s2") > 0, TimeSpan.FromSeconds(10), "a slow request in flight on s2");
            await Poll.UntilAsync(() => AdminStates(rig)?["s2"] == ServerAdminState.Drain, TimeSpan.FromSeconds(15), "s2 draining");
            RoleOf(rig, "s2").Should().Be(ServerRole.Draining);

            // HAProxy dies mid-drain (SIGKILL) and comes back from the same configuration, where s2 is "disabled".
            int before = rig.Logs.Count;
            int oldPid = rig.Haproxy.Pid;
            await rig.Haproxy.StopAsync();
            rig.Apps[1].BaseDelay = TimeSpan.FromMilliseconds(10);
            // It stays down for two reconcile passes (0.5 s each): longer than the drain's session poll (0.5 s).
            await Poll.UntilAsync(() => rig.Logs.Skip(before).Count(l => l.EventId == AutoscaleEventIds.ReconcileFailed) >= 2, TimeSpan.FromSeconds(10), "the autoscaler to find HAProxy gone");
            await rig.Haproxy.StartAsync(waitForSocket: rig.Endpoint);
            await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
            rig.Haproxy.Pid.Should().NotBe(oldPid);

            // The autoscaler converges: s2 parked as it wanted, HAProxy's states are the autoscaler's roles.
            await WaitUntilConvergedAsync(rig, TimeSpan.FromSeconds(15));
            AdminStates(rig).Should().Equal(new Dictionary<string, ServerAdminState>
            {
                ["s1"] = ServerAdminState.Ready,
                ["s2"] = ServerAdminState.Maint,
                ["s3"] = ServerAdminState.Maint,
            });
            rig.Autoscaler.Snapshot().Single().Servers.Should().Equal(("s1", ServerRole.Active), ("s2", ServerRole.Parked), ("s3", ServerRole.Parked));
            rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ActionCompleted && l.Message.StartsWith("app/s2: down done", StringComparison.Ordinal));
            rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.ActionFailed, "the drain waited for HAProxy to come back");
            rig.Running.IsCompleted.Should().BeFalse();
        }
        finally
        {
            File.WriteAllLines("/tmp/chaos-c.log", rig.Logs.Select(l => $"{l.EventId} {l.Message}"));
            await slow.CancelAsync();
            await Task.WhenAll(requests);
        }
    }

    [Fact]
    public async Task AdminSocket_UnreachableForAWhile_ActionsBackOffThenStateReappliedAndScalingResumes()
    {
        // A policy the test steers; back-off and reconcile scaled down from production's 30 s and 10 s.
        var policy = new SteeredPolicy();
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(
            backend =>
            {
                backend.PolicyKind = SteeredPolicy.Name;
                backend.PolicySettings.Clear();
                backend.SettleTime = TimeSpan.Zero;
            },
            configureOptions: options => options.Warmup.FailureBackoff = TimeSpan.FromMilliseconds(400),
            build: (builder, _) => builder.Policies.Add(SteeredPolicy.Name, _ => policy));

        // s2 is enabled while all is well.
        policy.Want = ScalingAction.Up;
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled");
        policy.Want = ScalingAction.Hold;
        await WaitUntilConvergedAsync(rig, TimeSpan.FromSeconds(10));

        // The admin socket goes away (HAProxy is down); meanwhile the backend wants s3 up.
        int before = rig.Logs.Count;
        int oldPid = rig.Haproxy.Pid;
        await rig.Haproxy.StopAsync();
        policy.Want = ScalingAction.Up;
        await Poll.UntilAsync(
            () => rig.Logs.Skip(before).Count(l => l.EventId == AutoscaleEventIds.ActionFailed && l.Message.StartsWith("app/s3: up failed", StringComparison.Ordinal)) >= 3,
            TimeSpan.FromSeconds(15),
            "three failed attempts to enable s3");
        string[] failures = [.. rig.Logs.Skip(before).Where(l => l.EventId == AutoscaleEventIds.ActionFailed).Select(l => l.Message)];
        failures.Should().OnlyContain(m => m.StartsWith("app/s3: up failed after ", StringComparison.Ordinal) && m.Contains(": cannot ", StringComparison.Ordinal));
        failures.Take(3).Select(m => m[(m.LastIndexOf("retried after ", StringComparison.Ordinal) + 14)..]).Should().Equal("400ms", "800ms", "1.6s");
        rig.Logs.Skip(before).Should().Contain(l => l.EventId == AutoscaleEventIds.ReconcileFailed);
        rig.Running.IsCompleted.Should().BeFalse("the autoscaler keeps running while HAProxy cannot be reached");
        rig.Autoscaler.Snapshot().Single().Servers.Should().Equal(("s1", ServerRole.Active), ("s2", ServerRole.Active), ("s3", ServerRole.Parked));

        // The socket is back (a new HAProxy, from the configuration where s2 and s3 are "disabled").
        await rig.Haproxy.StartAsync(waitForSocket: rig.Endpoint);
        await rig.Haproxy.WaitForPortAsync(rig.FrontendPort);
        await Poll.UntilAsync(() => rig.Logs.Skip(before).Any(l => l.EventId == AutoscaleEventIds.Reapplied), TimeSpan.FromSeconds(10), "the restart to be noticed");
        rig.Logs.Skip(before).First(l => l.EventId == AutoscaleEventIds.Reapplied).Message.Should().Contain($"pid {oldPid} -> {rig.Haproxy.Pid}").And.Contain("re-applying 1 server state(s)");
        await rig.WaitForStatusAsync("s3", s => s != "MAINT", "enabled once its back-off ended");
        policy.Want = ScalingAction.Hold;
        await WaitUntilConvergedAsync(rig, TimeSpan.FromSeconds(10));
        AdminStates(rig).Should().Equal(new Dictionary<string, ServerAdminState>
        {
            ["s1"] = ServerAdminState.Ready,
            ["s2"] = ServerAdminState.Ready,
            ["s3"] = ServerAdminState.Ready,
        });
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ActionCompleted && l.Message.StartsWith("app/s3: up done", StringComparison.Ordinal));
        rig.Logs.Should().NotContain(l => l.Level >= LogLevel.Error, "no exception escaped or was contained as an extension fault");
        rig.Running.IsCompleted.Should().BeFalse();
    }

    /// <summary>
    /// Waits until HAProxy's admin states are the autoscaler's roles (active: ready; parked or held: maintenance),
    /// no action is in flight and no server is in drain, on 10 reads in a row (about half a second).
    /// </summary>
    internal static async Task WaitUntilConvergedAsync(AutoscaleRig rig, TimeSpan timeout)
    {
        int stable = 0;
        string last = "";
        await Poll.UntilAsync(
            () =>
            {
                IReadOnlyDictionary<string, ServerAdminState>? states = AdminStates(rig);
                var roles = rig.Autoscaler.Snapshot().Single().Servers;
                last = $"HAProxy {(states is null ? "unreachable" : string.Join(", ", states.Select(s => $"{s.Key} {s.Value}")))}; autoscaler {string.Join(", ", roles.Select(r => $"{r.Server} {r.Role}"))}";
                bool converged = states is not null && roles.All(r => states.TryGetValue(r.Server, out ServerAdminState state) && r.Role switch
                {
                    ServerRole.Active => state == ServerAdminState.Ready,
                    ServerRole.Parked or ServerRole.HeldByOperator => state == ServerAdminState.Maint,
                    _ => false,
                });
                stable = converged ? stable + 1 : 0;
                return stable >= 10;
            },
            timeout,
            "HAProxy and the autoscaler to agree").ContinueWith(t => t.IsFaulted ? throw new TimeoutException($"{t.Exception!.InnerException!.Message}; last seen: {last}") : t, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Each server's admin state from <c>show servers state</c>, or null while HAProxy cannot be reached.</summary>
    internal static IReadOnlyDictionary<string, ServerAdminState>? AdminStates(AutoscaleRig rig)
    {
        try
        {
            return rig.Control.ShowServersStateAsync("app").GetAwaiter().GetResult().ToDictionary(s => s.Server, s => s.AdminState);
        }
        catch (HaproxyControlException)
        {
            return null;
        }
    }

    private static int SessionsOn(AutoscaleRig rig, string server) =>
        rig.Control.ShowStatAsync().GetAwaiter().GetResult().Single(r => r.Backend == "app" && r.Server == server).CurrentSessions;

    private static ServerRole RoleOf(AutoscaleRig rig, string server) => rig.Autoscaler.Snapshot().Single().Servers.Single(s => s.Server == server).Role;

    private static async Task SendIgnoringFailureAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        try
        {
            using HttpResponseMessage response = await http.GetAsync(url, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // HAProxy was killed under it, or the test is over.
        }
    }

    /// <summary>A policy the test steers: up, down or hold, as told.</summary>
    private sealed class SteeredPolicy : IScalingPolicy
    {
        public const string Name = "steered";

        public volatile ScalingAction Want = ScalingAction.Hold;

        public ScalingDecision Decide(ScalingContext context) => Want switch
        {
            ScalingAction.Up => ScalingDecision.Up(1, "told to"),
            ScalingAction.Down => ScalingDecision.Down(1, "told to"),
            _ => ScalingDecision.Hold("told to hold"),
        };
    }
}
