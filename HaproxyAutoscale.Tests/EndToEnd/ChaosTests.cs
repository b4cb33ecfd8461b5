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
[Trait("Category", "Haproxy")]
public sealed class ChaosTests
{
    [Fact]
    public async Task Drain_HaproxyKilledAndRestarted_ServerEndsInMaintenanceNoneLeftInDrain()
    {
        // Only s2 may be enabled (s1 always up, at most 2 active); a drain waits up to 60 s for sessions to end. The
        // concurrency policy (2 in flight per server, short windows) scales down with requests still open, where the
        // idle rule would wait for them to end.
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(
            backend =>
            {
                backend.MaxActive = 2;
                backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(60);
                backend.Policy.Kind = "concurrency";
                backend.Policy.Settings.Clear();
                backend.Policy.Settings["targetInFlight"] = "2";
                backend.Policy.Settings["stableWindow"] = "2s";
                backend.Policy.Settings["panicWindow"] = "1s";
                backend.Policy.Settings["scaleDownStabilization"] = "1s";
            },
            serverTimeout: "60s");

        using (var load = new CancellationTokenSource())
        {
            Task loading = rig.LoadAsync(clients: 8, TimeSpan.FromSeconds(20), load.Token);
            await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled under load");
            await load.CancelAsync();
            await loading;
        }

        // A slow request in flight on s2 keeps its drain going once the policy takes it down (2 requests in flight: 1 server).
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
            await rig.Haproxy.RestartAsync();
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
            rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Equal(("s1", ServerRole.Active), ("s2", ServerRole.Parked), ("s3", ServerRole.Parked));
            rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ActionCompleted && l.Message.StartsWith("app/s2: down done", StringComparison.Ordinal));
            rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.ActionFailed, "the drain waited for HAProxy to come back");
            rig.Running.IsCompleted.Should().BeFalse();
        }
        finally
        {
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
                backend.Policy.Kind = SteeredPolicy.Name;
                backend.Policy.Settings.Clear();
                backend.SettleTime = TimeSpan.Zero;
            },
            configureOptions: options => options.Warmup.FailureBackoff = TimeSpan.FromMilliseconds(400),
            build: (builder, _) => builder.Policies.Add(SteeredPolicy.Name, _ => policy));

        // s2 is enabled while all is well.
        (policy.UpTo, policy.Want) = (2, ScalingAction.Up);
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled");
        policy.Want = ScalingAction.Hold;
        await WaitUntilConvergedAsync(rig, TimeSpan.FromSeconds(10));

        // The admin socket goes away (HAProxy is down); meanwhile the backend wants s3 up.
        int before = rig.Logs.Count;
        int oldPid = rig.Haproxy.Pid;
        await rig.Haproxy.StopAsync();
        (policy.UpTo, policy.Want) = (3, ScalingAction.Up);
        await Poll.UntilAsync(
            () => rig.Logs.Skip(before).Count(l => l.EventId == AutoscaleEventIds.ActionFailed && l.Message.StartsWith("app/s3: up failed", StringComparison.Ordinal)) >= 3,
            TimeSpan.FromSeconds(15),
            "three failed attempts to enable s3");
        string[] failures = [.. rig.Logs.Skip(before).Where(l => l.EventId == AutoscaleEventIds.ActionFailed).Select(l => l.Message)];
        failures.Should().OnlyContain(m => m.StartsWith("app/s3: up failed after ", StringComparison.Ordinal) && m.Contains(": cannot ", StringComparison.Ordinal));
        failures.Take(3).Select(m => m[(m.LastIndexOf("retried after ", StringComparison.Ordinal) + 14)..]).Should().Equal("400ms", "800ms", "1.6s");
        rig.Logs.Skip(before).Should().Contain(l => l.EventId == AutoscaleEventIds.ReconcileFailed);
        rig.Running.IsCompleted.Should().BeFalse("the autoscaler keeps running while HAProxy cannot be reached");
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Equal(("s1", ServerRole.Active), ("s2", ServerRole.Active), ("s3", ServerRole.Parked));

        // The socket is back (a new HAProxy, from the configuration where s2 and s3 are "disabled").
        await rig.Haproxy.RestartAsync();
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

    [Fact]
    public async Task Warmup_DaemonKilledAndRestarted_AdoptsHaproxysStateAndEnablesTheServerOnce()
    {
        // Real apps (s2 takes 4 s to start: its warm-up is slow), a real HAProxy logging to the daemon over UDP.
        using var dir = new TempDirectory();
        DemoAppServer[] apps = AppServers.Three(s2ColdStart: TimeSpan.FromSeconds(4));
        await using DemoAppServer s1 = apps[0], s2 = apps[1], s3 = apps[2];
        int frontend = Ports.FreeTcp();
        int logPort = Ports.FreeUdp();
        await using Haproxy haproxy = await Haproxy.StartAsync(HaproxyConfig.ForApps(dir.File("admin.sock"), frontend, AppServers.Backend(apps), HaproxyLogTarget.Udp(logPort)), dir);
        await haproxy.WaitForPortAsync(frontend);
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));
        string config = dir.File("autoscale.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] },
              "logs": { "source": "udp@127.0.0.1:{{logPort}}" },
              "evaluationInterval": "200ms",
              "reconcileInterval": "500ms",
              "warmup": { "timeout": "10s", "attempts": 1 },
              "backends": {
                "app": {
                  "window": { "kind": "count", "size": 10 },
                  "policy": { "kind": "threshold", "thresholdMs": 150, "breaches": 2, "idleScaleDown": "0s" },
                  "maxActive": 2,
                  "settleTime": "1s",
                  "servers": {
                    "s1": { "alwaysUp": true },
                    "s2": { "warmupUrl": "http://127.0.0.1:{{s2.Port}}/warmup", "weight": 10 },
                    "s3": { "warmupUrl": "http://127.0.0.1:{{s3.Port}}/warmup", "weight": 10 }
                  }
                }
              }
            }
            """);

        using var load = new CancellationTokenSource();
        Task loading = Task.CompletedTask;
        try
        {
            // 1. The daemon decides s2 up under load and starts warming it; it is SIGKILLed before the warm-up ends.
            await using (var first = CliProcess.Start("run", "--config", config))
            {
                await first.WaitForAsync("app/s2: adopted as parked", "the daemon to read HAProxy's state");
                loading = LoadAsync(frontend, clients: 8, TimeSpan.FromSeconds(25), load.Token);
                await first.WaitForAsync("app: decided up s2", "a scale-up of s2");
                await first.KillAsync();
                first.Output.Should().NotContain("app/s2: up done", "it was killed while s2 was warming up");
            }

            // Half done is warmed-but-not-enabled: HAProxy never got a command for s2.
            (await AdminStatesAsync(control)).Should().Equal(new Dictionary<string, ServerAdminState>
            {
                ["s1"] = ServerAdminState.Ready,
                ["s2"] = ServerAdminState.Maint,
                ["s3"] = ServerAdminState.Maint,
            });

            // 2. Restarted under the same load: it adopts HAProxy's state, then enables s2 once, properly.
            await using var second = CliProcess.Start("run", "--config", config);
            await second.WaitForAsync("app/s2: up done", "s2 enabled by the restarted daemon");
            await Poll.UntilAsync(() => AdminStatesAsync(control).GetAwaiter().GetResult()["s2"] == ServerAdminState.Ready, TimeSpan.FromSeconds(5), "s2 ready");
            await Poll.UntilAsync(() => s2.Served.Any(r => r.Path == "/page"), TimeSpan.FromSeconds(10), "traffic on s2");
            await load.CancelAsync();
            await loading;

            string output = second.Output;
            output.Should().Contain("app/s1: adopted as active").And.Contain("app/s2: adopted as parked").And.Contain("app/s3: adopted as parked");
            Occurrences(output, "app: decided up s2").Should().Be(1, output);
            Occurrences(output, "app/s2: up done").Should().Be(1, output);
            output.Should().NotContain("decided down").And.NotContain(" failed").And.NotContain("decided up s3").And.NotContain("re-applying", output);
            (await AdminStatesAsync(control)).Should().Equal(new Dictionary<string, ServerAdminState>
            {
                ["s1"] = ServerAdminState.Ready,
                ["s2"] = ServerAdminState.Ready,
                ["s3"] = ServerAdminState.Maint,
            });
            (await control.ShowServersStateAsync("app")).Single(s => s.Server == "s2").UserWeight.Should().Be(10);
            s2.Served.Where(r => r.Path == "/page").Should().OnlyContain(r => !r.Cold, "s2 took traffic only once warm");
            second.HasExited.Should().BeFalse(output);
        }
        finally
        {
            await load.CancelAsync();
            await loading;
        }
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
                last = $"HAProxy {(states is null ? "unreachable" : string.Join(", ", states.Select(s => $"{s.Key} {s.Value}")))}; autoscaler {string.Join(", ", roles.Select(r => $"{r.Name} {r.Role}"))}";
                bool converged = states is not null && roles.All(r => states.TryGetValue(r.Name, out ServerAdminState state) && r.Role switch
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

    private static async Task<IReadOnlyDictionary<string, ServerAdminState>> AdminStatesAsync(IHaproxyControl control) =>
        (await control.ShowServersStateAsync("app")).ToDictionary(s => s.Server, s => s.AdminState);

    private static int Occurrences(string text, string what) => (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

    /// <summary>Bounded load through HAProxy's frontend from <paramref name="clients"/> loops.</summary>
    private static Task LoadAsync(int port, int clients, TimeSpan limit, CancellationToken cancellationToken) =>
        new HttpLoad(new Uri($"http://127.0.0.1:{port}/page")) { Clients = clients, Duration = limit }.RunAsync(cancellationToken);

    private static int SessionsOn(AutoscaleRig rig, string server) =>
        rig.Control.ShowStatAsync().GetAwaiter().GetResult().Single(r => r.Backend == "app" && r.Server == server).CurrentSessions;

    private static ServerRole RoleOf(AutoscaleRig rig, string server) => rig.Autoscaler.Snapshot().Single().Servers.Single(s => s.Name == server).Role;

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

        // Up to this many servers: warming servers count as capacity, and do not hold back a policy asking for more.
        public volatile int UpTo = int.MaxValue;

        public ScalingDecision Decide(ScalingContext context) => Want switch
        {
            ScalingAction.Up => context.ActiveServers < UpTo ? ScalingDecision.Up(1, "told to") : ScalingDecision.Hold("told to hold at " + UpTo),
            ScalingAction.Down => ScalingDecision.Down(1, "told to"),
            _ => ScalingDecision.Hold("told to hold"),
        };
    }
}
