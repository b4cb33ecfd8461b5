using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// The forecast's backtest in <c>simulate</c>: a backend whose forecast is <c>on</c> is simulated again with it off,
/// over the same log (the forecast learns from the log's own earlier days, as the daemon from its history), and the
/// difference is printed: seconds over the SLO and server-seconds, with the forecast and without.
/// </summary>
internal static class SimulateForecast
{
    /// <summary>The runs with the forecast off of the backends simulated with it on (none with <c>--static</c>).</summary>
    public static List<BackendSimulation> RunWithout(Loaded loaded, SimulationOptions options)
    {
        if (options.StaticServers is not null)
        {
            return [];
        }

        AutoscaleOptions off = OptionsCopy.Of(loaded.Options);
        var withForecast = new HashSet<string>(StringComparer.Ordinal);
        foreach (BackendOptions backend in off.Backends.Where(b => b.Forecast.Mode == ForecastMode.On))
        {
            withForecast.Add(backend.Name);
            backend.Forecast.Mode = ForecastMode.Off;
        }

        return [.. loaded.Backends.Where(b => withForecast.Contains(b.Backend)).Select(b => Simulator.Run(off, b.Backend, b.Model, b.Arrivals, options))];
    }

    /// <summary>One line per backend: what the forecast changed.</summary>
    public static IEnumerable<string> Differences(IReadOnlyList<BackendSimulation> results, IReadOnlyList<BackendSimulation> without) =>
        without.Select(off => results.First(r => r.Backend == off.Backend)).Zip(without, (on, off) => string.Create(CultureInfo.InvariantCulture,
            $"forecast backtest: {on.Backend}: seconds over the SLO {off.ViolationSeconds} without the forecast, {on.ViolationSeconds} with it; "
            + $"server-seconds {off.ServerSeconds:0} → {on.ServerSeconds:0} ({(off.ServerSeconds > 0 ? (on.ServerSeconds / off.ServerSeconds) - 1 : 0):+0.0%;-0.0%;0.0%}); "
            + $"requests over the SLO {off.RequestsOverSlo:0.00%} → {on.RequestsOverSlo:0.00%}"));
}
