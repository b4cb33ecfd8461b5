using System.CommandLine;
using System.Globalization;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// <c>simulate LOG… --config FILE</c> and <c>tune LOG… --config FILE --backend NAME</c>: what the configured policy
/// (or N static servers, or the best of a grid of settings) would have done to latency and cost, closed loop, with
/// servers fitted from the same log (or given by <c>--model</c>).
/// </summary>
internal static class SimulateCommand
{
    public static Command CreateSimulate(CliConsole console)
    {
        var inputs = new SimulationInputs();
        var fit = new Option<bool>("--fit") { Description = "Only fit the server model from the log and print it as JSON (no --config needed)." };
        var staticServers = new Option<int?>("--static") { Description = "Run N servers always on instead of the policy (a baseline)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var timeline = new Option<string?>("--timeline") { Description = "Write one CSV row per second and backend: time, arrivals, active, oracle, p95." };
        var command = new Command("simulate", "Predict what the policy would have done to latency and cost over a log, closed loop, with servers fitted from the log.");
        inputs.AddTo(command);
        command.Options.Add(fit);
        command.Options.Add(staticServers);
        command.Options.Add(json);
        command.Options.Add(timeline);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(fit))
            {
                return await SimulateFitOutput.PrintFitAsync(console, parse.GetRequiredValue(inputs.Logs), inputs.ColdStartMs(parse), inputs.IdleToColdS(parse), Console.OpenStandardInput, cancellationToken).ConfigureAwait(false);
            }

            if (await inputs.LoadAsync(console, parse, cancellationToken).ConfigureAwait(false) is not { } loaded)
            {
                return inputs.ExitCode;
            }

            int fewest = loaded.Backends.Min(b => loaded.Options.Backends.First(o => o.Name == b.Backend).Servers.Count);
            if (parse.GetValue(staticServers) is < 0 || parse.GetValue(staticServers) > fewest)
            {
                return console.Fail($"--static: expected 0 to {fewest} servers (the configured servers of the backends simulated)", ExitCodes.Usage);
            }

            SimulationOptions options = loaded.Simulation(parse.GetValue(staticServers), keepTimeline: parse.GetValue(timeline) is not null);
            List<BackendSimulation> results = [.. loaded.Backends.Select(b => Simulator.Run(loaded.Options, b.Backend, b.Model, b.Arrivals, options))];
            List<BackendSimulation> withoutForecast = SimulateForecast.RunWithout(loaded, options);
            if (parse.GetValue(timeline) is { } path)
            {
                await SimulationOutput.WriteTimelineAsync(path, results, cancellationToken).ConfigureAwait(false);
            }

            console.Out.WriteLine(parse.GetValue(json) ? SimulationOutput.SimulationJson([.. results, .. withoutForecast]) : SimulationOutput.SimulationTable([.. results, .. withoutForecast]));
            if (!parse.GetValue(json))
            {
                foreach (string line in SimulateForecast.Differences(results, withoutForecast))
                {
                    console.Out.WriteLine(line);
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    public static Command CreateTune(CliConsole console)
    {
        var inputs = new SimulationInputs();
        var backend = new Option<string>("--backend") { Description = "The backend whose policy to tune.", Required = true };
        var budget = new Option<string>("--budget") { Description = "The largest acceptable share of requests over the SLO, e.g. 1% or 0.01.", DefaultValueFactory = _ => "1%" };
        var deadlineBudget = new Option<string>("--deadline-budget")
        {
            Description = "Scale to zero: the largest share of requests answered 503 past the hold deadline a recommended setting may have, e.g. 0.1%.",
            DefaultValueFactory = _ => "0%",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of a table." };
        var command = new Command("tune", "Search the backend policy's main settings (and for concurrency its sizing and slo.p95; over more than a day of log, forecast.mode) with the simulator: the fewest server-seconds within the SLO budget.");
        inputs.AddTo(command);
        command.Options.Add(backend);
        command.Options.Add(budget);
        command.Options.Add(deadlineBudget);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!TryParseFraction(parse.GetValue(budget)!, out double share))
            {
                return console.Fail($"--budget: '{parse.GetValue(budget)}' is not a share such as 1% or 0.01", ExitCodes.Usage);
            }

            if (!TryParseFraction(parse.GetValue(deadlineBudget)!, out double deadlineShare))
            {
                return console.Fail($"--deadline-budget: '{parse.GetValue(deadlineBudget)}' is not a share such as 0.1% or 0.001", ExitCodes.Usage);
            }

            if (await inputs.LoadAsync(console, parse, cancellationToken).ConfigureAwait(false) is not { } loaded)
            {
                return inputs.ExitCode;
            }

            string name = parse.GetRequiredValue(backend);
            if (!loaded.Backends.Any(b => b.Backend == name))
            {
                return console.Fail($"--backend: '{name}' is not a configured backend with requests in the log");
            }

            (_, BackendModel model, long[] arrivals) = loaded.Backends.First(b => b.Backend == name);

            var tune = new TuneOptions { Budget = share, DeadlineBudget = deadlineShare };
            (tune.Simulation.Slo, tune.Simulation.Balance, tune.Simulation.QueueTimeout) = (loaded.Slo, loaded.Balance, loaded.QueueTimeout);
            (tune.Simulation.HoldDeadline, tune.Simulation.ProviderStart, tune.Simulation.EvaluationPhase) = (loaded.HoldDeadline, loaded.ProviderStart, loaded.EvaluationPhase);
            TuneResult result;
            try
            {
                result = Tuner.Tune(loaded.Options, name, model, arrivals, tune);
            }
            catch (ArgumentException e)
            {
                return console.Fail(e.Message);
            }

            string policy = loaded.Options.Backends.First(b => b.Name == name).Policy.Kind;
            console.Out.WriteLine(parse.GetValue(json) ? SimulationOutput.TuneJson(result, policy, share, deadlineShare) : SimulationOutput.TuneTable(result, policy, share, deadlineShare));
            return result.Recommended is null ? ExitCodes.Failure : ExitCodes.Success;
        });
        return command;
    }

    private static bool TryParseFraction(string text, out double value)
    {
        bool percent = text.EndsWith('%');
        bool parsed = double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        value = percent ? value / 100 : value;
        return parsed && value is >= 0 and <= 1;
    }
}
