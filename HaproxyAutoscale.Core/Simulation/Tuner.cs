using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Forecasting;
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
internal sealed record TuneCandidate(IReadOnlyDictionary<string, string> PolicySettings, WindowOptions Window, BackendSimulation Result)
{
    /// <summary>The backend's <c>slo.p95</c> tried, or <see langword="null"/>: the configured one.</summary>
    public TimeSpan? SloP95 { get; init; }

    /// <summary>The backend's <c>forecast.mode</c> tried, or <see langword="null"/>: the configured one.</summary>
    public ForecastMode? Forecast { get; init; }
}

/// <summary>What the tuner found.</summary>
/// <param name="Evaluated">Every setting tried.</param>
/// <param name="ParetoFront">The settings no other beats on both server-seconds and requests over the SLO, cheapest first.</param>
/// <param name="Recommended">The cheapest within the budget, or <see langword="null"/> when none is.</param>
internal sealed record TuneResult(IReadOnlyList<TuneCandidate> Evaluated, IReadOnlyList<TuneCandidate> ParetoFront, TuneCandidate? Recommended);

/// <summary>
/// Searches a built-in policy's main settings (thresholds or targets relative to the SLO, window size and statistic,
/// breaches, stabilization, idle period; for <c>concurrency</c> the in-flight target, stable window, stabilization and
/// panic threshold, then <c>sizing: learned</c> with the backend's <c>slo.p95</c>) with the closed-loop
/// <see cref="Simulator"/> for the fewest server-seconds with requests over the SLO within the budget; over a log of
/// more than a day, <c>forecast.mode</c> off and on. A grid, not an optimizer: every setting is simulated, in parallel.
/// </summary>
/// <remarks>
/// The settings that act on few decisions are not multiplied into the grid: the learned sizing (it only sizes a burst)
/// and the forecast (it only raises a floor) are tried on the grid's finalists, the recommendation and the cheaper
/// settings of the Pareto front next to it, which are the ones a burst's sizing or a floor can bring within the budget.
/// </remarks>
internal static class Tuner
{
    // Finalists of the in-flight grid tried with the learned sizing, and of everything with the forecast on.
    private const int LearnedSeeds = 4, ForecastSeeds = 2;

    /// <summary>Tunes the policy of <paramref name="backend"/>.</summary>
    /// <exception cref="ArgumentException">The backend is not configured, or its policy is not a built-in one.</exception>
    public static TuneResult Tune(AutoscaleOptions options, string backend, BackendModel model, long[] arrivals, TuneOptions tune)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(arrivals);
        ArgumentNullException.ThrowIfNull(tune);
        BackendOptions configured = options.Backends.FirstOrDefault(b => b.Name == backend)
            ?? throw new ArgumentException($"backend '{backend}' is not configured", nameof(backend));
        double slo = tune.Simulation.Slo.TotalMilliseconds;
        bool concurrency = string.Equals(configured.Policy.Kind, ScalingPolicyNames.Concurrency, StringComparison.OrdinalIgnoreCase);

        // Over more than a day the forecast learns from the log's own earlier days: the grid runs without it.
        ForecastMode? forecast = arrivals.Length > 1 && arrivals[^1] - arrivals[0] > TimeSpan.FromDays(1).TotalMilliseconds ? ForecastMode.Off : null;
        List<TuneCandidate> results = Run(options, backend, model, arrivals, tune,
            [.. TunerGrid.Of(configured.Policy.Kind, slo).Select(g => new Trial(g.Settings, g.Window, null, forecast))]);
        if (concurrency)
        {
            IEnumerable<TimeSpan> slos = TunerGrid.SloVariants(slo, model);
            results.AddRange(Run(options, backend, model, arrivals, tune, [.. Finalists(results, tune, LearnedSeeds).SelectMany(c => slos.Select(p95 =>
                new Trial(new Dictionary<string, string>(c.PolicySettings) { ["sizing"] = "learned" }, c.Window, p95, c.Forecast)))]));
        }

        if (forecast is not null)
        {
            results.AddRange(Run(options, backend, model, arrivals, tune, [.. Finalists(results, tune, ForecastSeeds).Select(c => new Trial(c.PolicySettings, c.Window, c.SloP95, ForecastMode.On))]));
        }

        // Ties (equal cost and SLO share are common) resolve by the order tried, so the same inputs give the same
        // front and recommendation whatever the threads did.
        List<TuneCandidate> evaluated = Ordered(results);
        List<TuneCandidate> front = Front(evaluated);
        return new TuneResult(evaluated, front, Recommend(evaluated, tune));
    }

    /// <summary>Whether the requests answered 503 past the hold's deadline are within the budget (always, for a backend that cannot go to zero).</summary>
    public static bool WithinDeadlineBudget(BackendSimulation result, double budget) =>
        result.ScaleToZero is not { } zero || result.Requests == 0 || (double)zero.PastDeadline / result.Requests <= budget;

    // Simulates every trial (in parallel), each result in its trial's slot.
    private static List<TuneCandidate> Run(AutoscaleOptions options, string backend, BackendModel model, long[] arrivals, TuneOptions tune, List<Trial> trials)
    {
        var results = new TuneCandidate[trials.Count];
        Parallel.For(0, trials.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, tune.Parallelism) }, i =>
        {
            Trial trial = trials[i];
            AutoscaleOptions copy = OptionsCopy.Of(options);
            BackendOptions trialBackend = copy.Backends.First(b => b.Name == backend);
            trialBackend.Window = trial.Window;
            trialBackend.Policy.Settings.Clear();
            foreach (KeyValuePair<string, string> setting in trial.Settings)
            {
                trialBackend.Policy.Settings[setting.Key] = setting.Value;
            }

            trialBackend.Slo.P95 = trial.SloP95 ?? trialBackend.Slo.P95;
            trialBackend.Forecast.Mode = trial.Forecast ?? trialBackend.Forecast.Mode;
            var simulation = new SimulationOptions
            {
                Slo = tune.Simulation.Slo, Seed = tune.Simulation.Seed, Balance = tune.Simulation.Balance, QueueTimeout = tune.Simulation.QueueTimeout,
                HoldDeadline = tune.Simulation.HoldDeadline, ProviderStart = tune.Simulation.ProviderStart, EvaluationPhase = tune.Simulation.EvaluationPhase,
            };
            results[i] = new TuneCandidate(trial.Settings, trial.Window, Simulator.Run(copy, backend, model, arrivals, simulation)) { SloP95 = trial.SloP95, Forecast = trial.Forecast };
        });
        return [.. results];
    }

    private static List<TuneCandidate> Ordered(List<TuneCandidate> results) =>
        [.. results.Select((r, i) => (r, i)).OrderBy(x => x.r.Result.ServerSeconds).ThenBy(x => x.r.Result.RequestsOverSlo).ThenBy(x => x.i).Select(x => x.r)];

    // Cheapest first: a candidate is on the front when no cheaper one has fewer requests over the SLO.
    private static List<TuneCandidate> Front(List<TuneCandidate> ordered)
    {
        List<TuneCandidate> front = [];
        foreach (TuneCandidate candidate in ordered)
        {
            if (front.Count == 0 || candidate.Result.RequestsOverSlo < front[^1].Result.RequestsOverSlo)
            {
                front.Add(candidate);
            }
        }

        return front;
    }

    private static TuneCandidate? Recommend(List<TuneCandidate> ordered, TuneOptions tune) =>
        ordered.FirstOrDefault(c => c.Result.RequestsOverSlo <= tune.Budget && WithinDeadlineBudget(c.Result, tune.DeadlineBudget));

    // The recommendation so far and the cheaper settings of the front next to it (they miss the budget by the least);
    // without a recommendation, the settings of the front with the fewest requests over the SLO.
    private static IEnumerable<TuneCandidate> Finalists(List<TuneCandidate> results, TuneOptions tune, int count)
    {
        List<TuneCandidate> ordered = Ordered(results);
        List<TuneCandidate> front = Front(ordered);
        if (Recommend(ordered, tune) is not { } recommended)
        {
            return front.TakeLast(count);
        }

        double cost = recommended.Result.ServerSeconds;
        return [.. front.Where(c => c != recommended && c.Result.ServerSeconds <= cost).TakeLast(count - 1), recommended];
    }

    // A setting to simulate: the policy's settings and window, and the backend's slo.p95 and forecast.mode (null: as configured).
    private sealed record Trial(IReadOnlyDictionary<string, string> Settings, WindowOptions Window, TimeSpan? SloP95, ForecastMode? Forecast);
}
