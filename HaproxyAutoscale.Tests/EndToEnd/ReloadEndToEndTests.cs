using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>Reloads of a running autoscaler in front of a real HAProxy while requests flow.</summary>
public sealed class ReloadEndToEndTests
{
    [Fact]
    [Trait("Category", "Haproxy")]
    public async Task ReloadAsync_SeveralTimesUnderLoad_NoServerChangesStateNoLineLostWindowSamplesSurvive()
    {
        // A policy that never acts on this load (threshold far above it, no idle scale-down): any state change would be the reloads'.
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(
            configure: b =>
            {
                b.Window = new WindowOptions { Kind = WindowKinds.Time, Duration = TimeSpan.FromMinutes(5) }; // every sample stays: its count only grows
                b.Policy.Settings["thresholdMs"] = "10000";
                b.Policy.Settings["idleScaleDown"] = "1h";
            },
            configureHaproxy: (config, rig) => config.Backends.Add(HaproxyBackend.FirstUp("extra", [("x1", rig.Apps[0].Port), ("x2", rig.Apps[1].Port)])));
        await Poll.UntilAsync(() => rig.Logs.Any(e => e.EventId == AutoscaleEventIds.Adopted), TimeSpan.FromSeconds(10), "HAProxy's state adopted");
        ScaledBackend app = rig.Autoscaler.Backends.Single();
        using var stopLoad = new CancellationTokenSource();
        Task loading = rig.LoadAsync(clients: 4, TimeSpan.FromSeconds(30), stopLoad.Token);
        await Poll.UntilAsync(() => Samples(rig) >= 20, TimeSpan.FromSeconds(10), "requests to flow");
        var lifecycles = Lifecycles(rig);

        Action<AutoscaleOptions>[] reloads =
        [
            o => o.Backends.Add(Extra()),
            o => o.Backends[0].Policy.Settings["thresholdMs"] = "20000",
            o => o.Backends[1].Window.Size = 50,
            o => o.Backends[0].Behavior.Up.Cooldown = TimeSpan.FromSeconds(5),
            o => o.Backends.RemoveAt(1),
        ];
        AutoscaleOptions wanted = OptionsCopy.Of(rig.Options);
        foreach (Action<AutoscaleOptions> change in reloads)
        {
            change(wanted);
            int before = Samples(rig);
            ReloadResult result = await rig.Autoscaler.ReloadAsync(OptionsCopy.Of(wanted), CancellationToken.None);

            result.Applied.Should().BeTrue(string.Join("; ", result.Errors));
            rig.Autoscaler.Backends[0].Should().BeSameAs(app, "app keeps its object through every reload");
            Samples(rig).Should().BeGreaterThanOrEqualTo(before, $"app's window keeps its samples ({result.Summary})");
            await Poll.UntilAsync(() => Samples(rig) > before + 10, TimeSpan.FromSeconds(5), "samples to keep coming after the reload");
            if (result.Added.Count > 0)
            {
                // The backend the reload brought adopts HAProxy's state (x1 serving, x2 disabled) instead of imposing its own.
                rig.Autoscaler.Snapshot().Single(b => b.Backend == "extra").Servers.Select(s => (s.Name, s.Lifecycle))
                    .Should().Equal([("x1", ServerLifecycleState.Active), ("x2", ServerLifecycleState.Parked)]);
            }
        }

        await stopLoad.CancelAsync();
        await loading;
        await Poll.UntilAsync(
            async () => (await rig.Control.ShowBackendStatAsync()).Single(b => b.Backend == "app").Requests == Logged(app),
            TimeSpan.FromSeconds(5), "every request HAProxy counted to be read from its logs");
        // log_lines{outcome="read"} holds them too (and the line of the rig's port probe, logged as a bad request of the frontend).
        rig.Autoscaler.LogCounters.Lines.Should().BeGreaterThanOrEqualTo(Logged(app));
        rig.Autoscaler.LogCounters.Dropped.Should().Be(0);
        Lifecycles(rig).Should().Equal(lifecycles, "no server changes state because of a reload");
        rig.Logs.Should().NotContain(e => e.EventId == AutoscaleEventIds.Decision || e.EventId == AutoscaleEventIds.ActionCompleted);
        (await rig.Control.ShowStatAsync()).Where(s => s.Backend == "extra").Select(s => (s.Server, s.Status.StartsWith("MAINT", StringComparison.Ordinal)))
            .Should().Equal([("x1", false), ("x2", true)], "a removed backend's servers are left as they are in HAProxy");
        rig.Failed.Should().Be(0);
        rig.Logs.Count(e => e.EventId == AutoscaleEventIds.ReloadApplied).Should().Be(5);
    }

    private static BackendOptions Extra()
    {
        var extra = new BackendOptions { Name = "extra" };
        extra.Servers.Add(new ServerOptions { Name = "x1", AlwaysUp = true });
        extra.Servers.Add(new ServerOptions { Name = "x2" });
        return extra;
    }

    private static int Samples(AutoscaleRig rig) => rig.Autoscaler.Snapshot()[0].Window.SampleCount;

    private static long Logged(ScaledBackend backend)
    {
        lock (backend.Gate)
        {
            return backend.Decider.LoggedRequests;
        }
    }

    private static List<(string, ServerLifecycleState, DateTimeOffset)> Lifecycles(AutoscaleRig rig) =>
        [.. rig.Autoscaler.Snapshot()[0].Servers.Select(s => (s.Name, s.Lifecycle, s.Since))];
}
