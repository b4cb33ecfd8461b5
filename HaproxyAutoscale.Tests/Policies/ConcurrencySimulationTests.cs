using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Tests.Policies;

/// <summary>The default policy and the behaviour in the closed-loop simulator (the daemon's decider on a model).</summary>
public sealed class ConcurrencySimulationTests
{
    private static readonly long Start = new DateTimeOffset(2026, 11, 26, 15, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    // 20 requests/s for 60 s, then 150 requests/s for 120 s; servers of 2 workers at 40 ms (50 requests/s each).
    private static long[] Step() =>
        [.. Enumerable.Range(0, 1200).Select(i => Start + (i * 50L)), .. Enumerable.Range(0, 18000).Select(i => Start + 60_000 + (i * 20L / 3))];

    private static BackendModel Model()
    {
        var model = new BackendModel { Backend = "app", Workers = 2, MaxConn = 32 };
        for (int i = 0; i <= 100; i++)
        {
            model.ServiceTimeQuantilesMs.Add(30 + (20.0 * i / 100));
        }

        return model;
    }

    private static AutoscaleOptions Options(Action<BackendOptions>? configure = null)
    {
        var options = new AutoscaleOptions();
        var backend = new BackendOptions { Name = "app" }; // the default policy
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach (string name in new[] { "s2", "s3", "s4" })
        {
            backend.Servers.Add(new ServerOptions { Name = name });
        }

        configure?.Invoke(backend);
        options.Backends.Add(backend);
        return options;
    }

    [Fact]
    public void DefaultPolicy_Step_ScalesToDemandWithinTheSlo_AndCountsTheGatesThatHeldIt()
    {
        BackendSimulation result = Simulator.Run(Options(), "app", Model(), Step(), new SimulationOptions());
        result.Policy.Should().Be(ScalingPolicyNames.Concurrency);
        result.RequestsOverSlo.Should().BeLessThan(0.05, "150 requests/s need 3 servers of 50, asked for at once");
        result.ServerSeconds.Should().BeLessThan(4 * 180, "not all four all the time");
        result.HeldBy.Should().BeEmpty();

        BackendSimulation paced = Simulator.Run(Options(b => (b.Behavior.Up.MaxStep, b.Behavior.Up.Cooldown) = (1, TimeSpan.FromSeconds(20))), "app", Model(), Step(), new SimulationOptions());
        paced.HeldBy.Should().ContainKey("cooldown").WhoseValue.Should().BeGreaterThan(0);
        paced.RequestsOverSlo.Should().BeGreaterThan(result.RequestsOverSlo, "one server per 20 s is slower than demand");
    }

    [Fact]
    public void DefaultPolicy_StepFromOneServer_FirstScaleUpWithinTwoEvaluationIntervals()
    {
        BackendSimulation result = Simulator.Run(Options(), "app", Model(), Step(), new SimulationOptions { KeepTimeline = true });

        // A row shows the servers after that second's first evaluation (the one at its start).
        DateTimeOffset step = DateTimeOffset.FromUnixTimeMilliseconds(Start + 60_000);
        result.Timeline.Where(s => s.Time < step).Should().OnlyContain(s => s.Active == 1, "20 requests/s are one server's");
        result.Timeline.First(s => s.Active > 1).Time.Should().BeOnOrBefore(step + TimeSpan.FromSeconds(2), "issue 23: within 2 evaluation intervals of the step");
    }
}
