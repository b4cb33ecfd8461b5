using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Makes a backend's parts from validated options, the same way at start and on a reload: its policy, window and
/// decider, and its provider (wrapped for a dry run, and so that only the leader starts or stops anything).
/// </summary>
internal sealed class BackendFactory(EngineRegistries registries, EngineRuntime runtime, ILogger logger, ILeaderElection? election, Forecasting.DemandHistoryStore? history = null)
{
    private int _created; // backends made so far: each refits its capacity model at its own evaluation

    public EngineRegistries Registries => registries;

    /// <summary>Where each new backend's learned capacity is read from (the state directory), if anywhere.</summary>
    public Capacity.CapacityStore? Capacity { get; init; }

    /// <summary>
    /// A backend from the engine's own copy of its options (pool slots not yet expanded: done here);
    /// <paramref name="signals"/>: the options the log coverage goes by.
    /// </summary>
    public ScaledBackend Create(BackendOptions backend, AutoscaleOptions signals)
    {
        PoolSlots.Expand(backend); // pool slots are servers like the configured ones
        ScaledBackend scaled = ScaledBackend.Create(backend, registries.Policies, registries.Windows, runtime.Time, signals: signals, history: history);
        scaled.Decider.Capacity.Stagger(Interlocked.Increment(ref _created) - 1, signals.EvaluationInterval); // refits spread over the evaluations
        scaled.Provider = CreateProvider(backend);
        Capacity?.Restore(scaled);
        return scaled;
    }

    public IServerProvider? CreateProvider(BackendOptions backend)
    {
        IServerProvider? provider = ServerProviderRules.Create(backend, registries.Providers, runtime.Loggers, runtime.DryRun ? logger : null);
        return provider is not null && election is not null ? new LeaderOnlyServerProvider(provider, election) : provider;
    }

    public IScalingPolicy CreatePolicy(BackendOptions backend) => ScaledBackend.CreatePolicy(backend, registries.Policies);

    public IResponseTimeWindow CreateWindow(BackendOptions backend) => registries.Windows.Create(backend.Window, runtime.Time);

    /// <summary>A decider for <paramref name="backend"/>'s new options (expanded) over the backend's own servers and coverage.</summary>
    public BackendDecider CreateDecider(BackendOptions backend, IScalingPolicy policy, IResponseTimeWindow window, ScaledBackend scaled, BlindFallback fallback) =>
        new(backend, policy, window, scaled.Servers, runtime.Time, random: null, scaled.Coverage, fallback);
}
