using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Tests.Simulation;

/// <summary>
/// Scale to zero in the simulator: a backend with <c>minActive: 0</c> and no alwaysUp server holds requests (HAProxy's
/// Lua hold) while no server is usable, the daemon's wake path starts servers, held requests wait for the provider's
/// start and the warm-up, and past the deadline they are answered 503.
/// </summary>
public sealed class ScaleToZeroSimulationTests
{
    private static readonly long Start = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    // 50 ms per request, 4 workers per server, a 1 s cold start.
    private static BackendModel Model()
    {
        var model = new BackendModel { Backend = "app", Workers = 4, ColdStartMs = 1000 };
        for (int i = 0; i <= 100; i++)
        {
            model.ServiceTimeQuantilesMs.Add(50);
        }

        return model;
    }

    // Two parked servers with a warm-up URL, started by an exec provider (stopped after 30 s parked), idle after 1 minute.
    private static AutoscaleOptions Options(string policy = "threshold", int? minActive = 0)
    {
        var backend = new BackendOptions { Name = "app", MinActive = minActive, Policy = { Kind = policy } };
        backend.Policy.Settings["idleScaleDown"] = "1m";
        if (policy == "concurrency")
        {
            backend.Policy.Settings["targetInFlight"] = "10";
        }

        backend.Provider = new ServerProviderOptions { Kind = ServerProviderNames.Exec, KeepWarm = TimeSpan.FromSeconds(30) };
        backend.Provider.Lists["start"] = ["start", "{server}"];
        backend.Provider.Lists["stop"] = ["stop", "{server}"];
        foreach (string name in new[] { "s1", "s2", "s3", "s4" })
        {
            backend.Servers.Add(new ServerOptions { Name = name, WarmupUrl = new Uri("http://127.0.0.1:1/ready") });
        }

        var options = new AutoscaleOptions();
        options.Backends.Add(backend);
        return options;
    }

    // A burst of 50 at once onto the backend at zero, and another three minutes later (after it went back to zero).
    private static long[] Bursts() => [.. Enumerable.Repeat(Start, 50), .. Enumerable.Repeat(Start + 180_000, 50)];

    private static SimulationOptions Simulation(TimeSpan? deadline = null) => new()
    {
        Slo = TimeSpan.FromSeconds(10),
        ProviderStart = TimeSpan.FromSeconds(2),
        HoldDeadline = deadline ?? TimeSpan.FromSeconds(30),
        KeepTimeline = true,
    };

    [Fact]
    public void Run_BurstsOntoABackendAtZero_HeldRequestsWaitStartPlusWarmup_NoneLost_SecondsAtZeroReported()
    {
        BackendSimulation result = Simulator.Run(Options(), "app", Model(), Bursts(), Simulation());

        ZeroSimulation zero = result.ScaleToZero!;
        result.Requests.Should().Be(100);
        (zero.Held, zero.PastDeadline).Should().Be((100L, 0L), "every request found the backend at zero and none waited past 30 s");
        (zero.HeldP50Ms, zero.HeldP95Ms, zero.HeldMaxMs).Should().Be((3000, 3000, 3000), "the provider's 2 s start, then the 1 s warm-up");
        (zero.Wakes, zero.WakeToReadyP50Ms).Should().Be((2L, 3000));
        result.P99Ms.Should().BeLessThan(int.MaxValue, "no request was answered 503");
        result.P50Ms.Should().BeGreaterThanOrEqualTo(3000, "a held request's latency includes its wait");
        // Idle for 1 minute after the first burst (served by ~3.7 s), parked, then at zero until the second burst.
        zero.ZeroSeconds.Should().BeInRange(110, 120);
        result.Timeline.Should().Contain(s => s.Active == 0).And.Contain(s => s.Active == 1);
    }

    [Fact]
    public void Run_DeadlineShorterThanTheStart_HeldRequestsAnswered503AtTheDeadline_Counted()
    {
        BackendSimulation result = Simulator.Run(Options(), "app", Model(), Bursts(), Simulation(TimeSpan.FromSeconds(1)));

        ZeroSimulation zero = result.ScaleToZero!;
        (zero.Held, zero.PastDeadline, zero.HeldP50Ms).Should().Be((100L, 100L, (int?)null), "3 s to a usable server, 1 s of hold");
        result.RequestsOverSlo.Should().Be(1, "a 503 is a failed request");
        zero.WakeToReadyP50Ms.Should().Be(3000, "the server still came up");
    }

    [Fact]
    public void Run_ConcurrencyPolicy_TheWakeIsSizedToWhatIsHeld_AsTheDaemonSizesIt()
    {
        BackendSimulation concurrency = Simulator.Run(Options("concurrency"), "app", Model(), Bursts(), Simulation());
        BackendSimulation threshold = Simulator.Run(Options(), "app", Model(), Bursts(), Simulation());

        // One held: one server at once; 100 ms later 50 held at 10 per server: 5, at most the 4 configured.
        concurrency.Timeline[0].Active.Should().Be(4);
        threshold.Timeline[0].Active.Should().Be(1, "a policy without a per-server target wakes one server");
        concurrency.ScaleToZero!.PastDeadline.Should().Be(0);
    }

    [Fact]
    public void Run_BackendThatCannotGoToZero_HasNoScaleToZeroFigures()
    {
        AutoscaleOptions alwaysUp = Options();
        alwaysUp.Backends[0].Servers[0].AlwaysUp = true;
        Simulator.Run(alwaysUp, "app", Model(), Bursts(), Simulation()).ScaleToZero.Should().BeNull();
        Simulator.Run(Options(minActive: null), "app", Model(), Bursts(), Simulation()).ScaleToZero.Should().BeNull("no minActive 0: no hold, 503 at once as before");
        Simulator.Run(Options(), "app", Model(), Bursts(), new SimulationOptions { StaticServers = 1 }).ScaleToZero.Should().BeNull();
    }
}
