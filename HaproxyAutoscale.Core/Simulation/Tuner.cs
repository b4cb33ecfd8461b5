using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Simulation;

/// <summary>What <see cref="Tuner"/> searches for.</summary>
internal sealed class TuneOptions
{
    /// <summary>The simulation's SLO, seed and balance; its static count and timeline are ignored.</summary>
    public SimulationOptions Simulation { get; } = new();

    /// <summary>The largest acceptable fraction of requests over the SLO.</summary>
    /// <value>The default is 0.01 (1 %).</value>
    public double Budget { get; set; } = 0.01;

    /// <summary>
    /// For a backend that may go to zero: the largest acceptable fraction of requests answered 503 past the Lua hold's
    /// deadline; a setting above it is never recommended, whatever its requests over the SLO.
    /// </summary>
    /// <value>The default is 0: no request lost to the deadline.</value>
    public double DeadlineBudget { get; set; }

    /// <summary>Simulations run at once.</summary>
    /// <value>The default is the number of cores.</value>
    public int Parallelism { get; set; } = Environment.ProcessorCount;
}

/// <summary>One setting the tuner tried and what the simulation said of it.</summary>
/// <param name="PolicySettings">The policy's settings (the policy kind is the configured one).</param>
/// <param name="Window">The window.</param>
/// <param name="Result">The simulation's result.</param>
internal sealed record TuneCandidate(IReadOnlyDictionary<string, string> PolicySettings, WindowOptions Window, BackendSimulation Result);

/// <summary>What the tuner found.</summary>
/// <param name="Evaluated">Every setting tried.</param>
/// <param name="ParetoFront">The settings no other beats on both server-seconds and requests over the SLO, cheapest first.</param>
/// <param name="Recommended">The cheapest within the budget, or <see langword="null"/> when none is.</param>
internal sealed record TuneResult(IReadOnlyList<TuneCandidate> Evaluated, IReadOnlyList<TuneCandidate> ParetoFront, TuneCandidate? Recommended);

/// <summary>
/// Searches a built-in policy's main settings (thresholds or targets relative to the SLO, window size and statistic,
/// breaches, stabilization, idle period; for <c>concurrency</c> the in-flight target, stable window, stabilization and
/// panic threshold) with the closed-loop <see cref="Simulator"/> for the fewest server-seconds
/// with requests over the SLO within the budget. A grid, not an optimizer: every setting is simulated, in parallel.
/// </summary>
internal static class Tuner
{
    /// <summary>Tunes the policy of <paramref name="backend"/>.</summary>
    /// <exception cref="ArgumentException">The backend is not configured, or its policy is not a built-in one.</exception>
    public static TuneResult Tune(AutoscaleOptions options, string backend, BackendModel model, long[] arrivals, TuneOptions tune)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tune);
        BackendOptions configured = options.Backends.FirstOrDefault(b => b.Name == backend)
            ?? throw new ArgumentException($"backend '{backend}' is not configured", nameof(backend));
        double slo = tune.Simulation.Slo.TotalMilliseconds;
        List<(Dictionary<string, string> Settings, WindowOptions Window)> grid = [.. Grid(configured.Policy.Kind, slo)];
        // Each result in its grid slot: ties (equal cost and SLO share are common) resolve by grid order, so the
        // same inputs give the same front and recommendation whatever the threads did.
        var results = new TuneCandidate[grid.Count];
        Parallel.For(0, grid.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, tune.Parallelism) }, i =>
        {
            (Dictionary<string, string> settings, WindowOptions window) = grid[i];
            AutoscaleOptions trial = OptionsCopy.Of(options);
            BackendOptions trialBackend = trial.Backends.First(b => b.Name == backend);
            trialBackend.Window = window;
            trialBackend.Policy.Settings.Clear();
            foreach (KeyValuePair<string, string> setting in settings)
            {
                trialBackend.Policy.Settings[setting.Key] = setting.Value;
            }

            var simulation = new SimulationOptions
            {
                Slo = tune.Simulation.Slo, Seed = tune.Simulation.Seed, Balance = tune.Simulation.Balance, QueueTimeout = tune.Simulation.QueueTimeout,
                HoldDeadline = tune.Simulation.HoldDeadline, ProviderStart = tune.Simulation.ProviderStart, EvaluationPhase = tune.Simulation.EvaluationPhase,
            };
            results[i] = new TuneCandidate(settings, window, Simulator.Run(trial, backend, model, arrivals, simulation));
        });

        List<TuneCandidate> evaluated = [.. results.Select((r, i) => (r, i)).OrderBy(x => x.r.Result.ServerSeconds).ThenBy(x => x.r.Result.RequestsOverSlo).ThenBy(x => x.i).Select(x => x.r)];
        List<TuneCandidate> front = [];
        foreach (TuneCandidate candidate in evaluated)
        {
            // Cheapest first: a candidate is on the front when no cheaper one has fewer requests over the SLO.
            if (front.Count == 0 || candidate.Result.RequestsOverSlo < front[^1].Result.RequestsOverSlo)
            {
                front.Add(candidate);
            }
        }

        TuneCandidate? recommended = evaluated.FirstOrDefault(c => c.Result.RequestsOverSlo <= tune.Budget && WithinDeadlineBudget(c.Result, tune.DeadlineBudget));
        return new TuneResult(evaluated, front, recommended);
    }

    /// <summary>Whether the requests answered 503 past the hold's deadline are within the budget (always, for a backend that cannot go to zero).</summary>
    public static bool WithinDeadlineBudget(BackendSimulation result, double budget) =>
        result.ScaleToZero is not { } zero || result.Requests == 0 || (double)zero.PastDeadline / result.Requests <= budget;

    // The settings tried per built-in policy: values relative to the SLO, the rest around the defaults.
    private static IEnumerable<(Dictionary<string, string>, WindowOptions)> Grid(string policy, double slo)
    {
        IEnumerable<WindowOptions> windows =
            from size in new[] { 5, 15, 50 }
            from statistic in new[] { WindowStatistic.Mean, WindowStatistic.P95 }
            select new WindowOptions { Kind = WindowKinds.Count, Size = size, Statistic = statistic };
        string Ms(double fraction) => (fraction * slo).ToString("0.#", CultureInfo.InvariantCulture);
        return policy.ToLowerInvariant() switch
        {
            ScalingPolicyNames.Threshold =>
                from window in windows
                from threshold in new[] { 0.4, 0.6, 0.8, 1.0 }
                from breaches in new[] { "1", "2", "3" }
                from idle in new[] { "1m", "5m" }
                select (new Dictionary<string, string> { ["thresholdMs"] = Ms(threshold), ["breaches"] = breaches, ["idleScaleDown"] = idle }, window),
            ScalingPolicyNames.Band =>
                from window in windows
                from upper in new[] { 0.6, 0.8, 1.0 }
                from lower in new[] { 0.2, 0.4 }
                from breaches in new[] { "1", "3" }
                from stabilization in new[] { "1m", "5m" }
                select (new Dictionary<string, string> { ["upperMs"] = Ms(upper), ["lowerMs"] = Ms(lower), ["breaches"] = breaches, ["stabilization"] = stabilization }, window),
            ScalingPolicyNames.Target =>
                from window in windows
                from target in new[] { 0.3, 0.5, 0.7, 0.9 }
                from stabilization in new[] { "60s", "300s" }
                from maxStep in new[] { "1", "2" }
                select (new Dictionary<string, string> { ["targetMs"] = Ms(target), ["scaleDownStabilization"] = stabilization, ["maxStep"] = maxStep }, window),
            // Concurrency ignores the window (it reads in-flight), so one window; targets around a server's workers.
            ScalingPolicyNames.Concurrency =>
                from target in new[] { "1", "1.5", "2", "3", "4", "6", "8", "12" }
                from stable in new[] { "30s", "60s" }
                from stabilization in new[] { "30s", "60s", "300s" }
                from panic in new[] { "2", "3" }
                select (new Dictionary<string, string> { ["targetInFlight"] = target, ["stableWindow"] = stable, ["scaleDownStabilization"] = stabilization, ["panicThreshold"] = panic },
                    new WindowOptions { Kind = WindowKinds.Count, Size = 15, Statistic = WindowStatistic.Mean }),
            _ => throw new ArgumentException($"the '{policy}' policy cannot be tuned: only the built-in threshold, band, target and concurrency can", nameof(policy)),
        };
    }
}
