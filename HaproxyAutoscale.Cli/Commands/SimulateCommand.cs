using System.CommandLine;
using System.Globalization;
using System.Text.Json;
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
            if (parse.GetValue(timeline) is { } path)
            {
                await WriteTimelineAsync(path, results, cancellationToken).ConfigureAwait(false);
            }

            console.Out.WriteLine(parse.GetValue(json) ? SimulationJson(results) : SimulationTable(results));
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
        var command = new Command("tune", "Search the backend policy's main settings with the simulator: the fewest server-seconds within the SLO budget.");
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
            (tune.Simulation.HoldDeadline, tune.Simulation.ProviderStart) = (loaded.HoldDeadline, loaded.ProviderStart);
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
            console.Out.WriteLine(parse.GetValue(json) ? TuneJson(result, policy, share, deadlineShare) : TuneTable(result, policy, share, deadlineShare));
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

    private static async Task WriteTimelineAsync(string path, List<BackendSimulation> results, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(path, append: false);
        await writer.WriteLineAsync("time,backend,arrivals,active,oracle,p95Ms").ConfigureAwait(false);
        foreach (BackendSimulation result in results)
        {
            foreach (SimulationSecond second in result.Timeline)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{second.Time:yyyy-MM-ddTHH:mm:ssZ},{result.Backend},{second.Arrivals},{second.Active},{second.Oracle},{second.P95Ms}")).ConfigureAwait(false);
            }
        }
    }

    private static string SimulationTable(List<BackendSimulation> results)
    {
        var rows = new List<string[]> { new[] { "BACKEND", "POLICY", "REQUESTS", "P50", "P95", "P99", "OVER-SLO", "VIOLATION-S", "SERVER-S", "ORACLE-S", "FLAPS", "COLD", "UNDER acc/time", "OVER acc/time", "INSTABILITY", "HELD BY" } };
        rows.AddRange(results.Select(r => new[]
        {
            r.Backend, r.Policy, r.Requests.ToString(CultureInfo.InvariantCulture), Ms(r.P50Ms), Ms(r.P95Ms), Ms(r.P99Ms), Percent(r.RequestsOverSlo),
            r.ViolationSeconds.ToString(CultureInfo.InvariantCulture), r.ServerSeconds.ToString("0", CultureInfo.InvariantCulture), r.OracleServerSeconds.ToString("0", CultureInfo.InvariantCulture),
            r.Flaps.ToString(CultureInfo.InvariantCulture), r.UserColdStarts.ToString(CultureInfo.InvariantCulture),
            $"{Percent(r.UnderProvisioning.Accuracy)}/{Percent(r.UnderProvisioning.Timeshare)}", $"{Percent(r.OverProvisioning.Accuracy)}/{Percent(r.OverProvisioning.Timeshare)}", Percent(r.Instability),
            r.HeldBy.Count == 0 ? "-" : string.Join(" ", r.HeldBy.Select(h => $"{h.Key}:{h.Value}")),
        }));
        if (SimulateZeroOutput.Any(results))
        {
            rows[0] = [.. rows[0], .. SimulateZeroOutput.Headers];
            for (int i = 1; i < rows.Count; i++)
            {
                rows[i] = [.. rows[i], .. SimulateZeroOutput.Cells(results[i - 1])];
            }
        }

        using var text = new StringWriter(CultureInfo.InvariantCulture);
        TableWriter.Write(text, rows);
        return text.ToString().TrimEnd();
    }

    private static string SimulationJson(List<BackendSimulation> results) => JsonOutput.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteStartArray("backends");
        foreach (BackendSimulation result in results)
        {
            WriteSimulation(writer, result);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    });

    private static void WriteSimulation(Utf8JsonWriter writer, BackendSimulation r)
    {
        writer.WriteStartObject();
        writer.WriteString("backend", r.Backend);
        writer.WriteString("policy", r.Policy);
        writer.WriteNumber("requests", r.Requests);
        writer.WriteNumber("sloMs", r.SloMs);
        WriteNullable(writer, "p50Ms", r.P50Ms);
        WriteNullable(writer, "p95Ms", r.P95Ms);
        WriteNullable(writer, "p99Ms", r.P99Ms);
        writer.WriteNumber("requestsOverSlo", Math.Round(r.RequestsOverSlo, 6));
        writer.WriteNumber("violationSeconds", r.ViolationSeconds);
        writer.WriteNumber("serverSeconds", Math.Round(r.ServerSeconds, 1));
        writer.WriteNumber("oracleServerSeconds", Math.Round(r.OracleServerSeconds, 1));
        writer.WriteNumber("flaps", r.Flaps);
        writer.WriteNumber("userColdStarts", r.UserColdStarts);
        WriteMetric(writer, "underProvisioning", r.UnderProvisioning);
        WriteMetric(writer, "overProvisioning", r.OverProvisioning);
        writer.WriteNumber("instability", Math.Round(r.Instability, 6));
        writer.WriteStartObject("heldBy"); // evaluations whose decision an engine rule held back, per gate
        foreach ((string gate, int count) in r.HeldBy)
        {
            writer.WriteNumber(gate, count);
        }

        writer.WriteEndObject();
        SimulateZeroOutput.Write(writer, r);
        writer.WriteEndObject();
    }

    private static void WriteMetric(Utf8JsonWriter writer, string name, ProvisioningMetric metric)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("accuracy", Math.Round(metric.Accuracy, 6));
        writer.WriteNumber("timeshare", Math.Round(metric.Timeshare, 6));
        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, int? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static string TuneTable(TuneResult result, string policy, double budget, double deadlineBudget)
    {
        bool zero = SimulateZeroOutput.Any(result.Evaluated.Select(c => c.Result));
        var rows = new List<string[]> { new[] { "SERVER-S", "OVER-SLO", "P95", "FLAPS", "POLICY SETTINGS", "WINDOW" } };
        rows.AddRange(result.ParetoFront.Select(c => new[]
        {
            c.Result.ServerSeconds.ToString("0", CultureInfo.InvariantCulture), Percent(c.Result.RequestsOverSlo), Ms(c.Result.P95Ms), c.Result.Flaps.ToString(CultureInfo.InvariantCulture),
            string.Join(" ", c.PolicySettings.Select(s => $"{s.Key}={s.Value}")), $"{c.Window.Kind} {c.Window.Size} {c.Window.Statistic.ToString().ToLowerInvariant()}",
        }));
        if (zero)
        {
            rows[0] = [.. rows[0][..4], .. SimulateZeroOutput.TuneHeaders, .. rows[0][4..]];
            for (int i = 1; i < rows.Count; i++)
            {
                rows[i] = [.. rows[i][..4], .. SimulateZeroOutput.TuneCells(result.ParetoFront[i - 1].Result), .. rows[i][4..]];
            }
        }

        string within = zero ? $" and at most {Percent(deadlineBudget)} answered 503 past the hold deadline" : "";
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        text.WriteLine($"{result.Evaluated.Count} settings simulated; Pareto front (fewest server-seconds first):");
        TableWriter.Write(text, rows);
        text.WriteLine();
        text.WriteLine(result.Recommended is { } best
            ? $"Recommended (fewest server-seconds with at most {Percent(budget)} of requests over the SLO{within}), to paste into the backend's configuration:{Environment.NewLine}{RecommendationJson(best, policy)}"
            : $"No setting kept requests over the SLO within {Percent(budget)}{within}: more servers (maxActive){(zero ? ", a longer --hold-deadline" : "")} or a looser SLO are needed.");
        return text.ToString().TrimEnd();
    }

    private static string TuneJson(TuneResult result, string policy, double budget, double deadlineBudget) => JsonOutput.Write(writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("evaluated", result.Evaluated.Count);
        writer.WriteNumber("budget", budget);
        if (SimulateZeroOutput.Any(result.Evaluated.Select(c => c.Result)))
        {
            writer.WriteNumber("deadlineBudget", deadlineBudget);
        }

        writer.WriteStartArray("paretoFront");
        foreach (TuneCandidate candidate in result.ParetoFront)
        {
            writer.WriteStartObject();
            WriteSettings(writer, candidate, policy);
            writer.WritePropertyName("result");
            WriteSimulation(writer, candidate.Result);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WritePropertyName("recommended");
        if (result.Recommended is { } best)
        {
            writer.WriteStartObject();
            WriteSettings(writer, best, policy);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNullValue();
        }

        writer.WriteEndObject();
    });

    private static string RecommendationJson(TuneCandidate candidate, string policy) =>
        JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            WriteSettings(writer, candidate, policy);
            writer.WriteEndObject();
        });

    // The configuration's own shape: "policy": {"kind", settings…}, "window": {"kind", "size", "statistic"}.
    private static void WriteSettings(Utf8JsonWriter writer, TuneCandidate candidate, string policy)
    {
        writer.WriteStartObject("policy");
        writer.WriteString("kind", policy);
        foreach ((string key, string value) in candidate.PolicySettings)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
            {
                writer.WriteNumber(key, number);
            }
            else
            {
                writer.WriteString(key, value);
            }
        }

        writer.WriteEndObject();
        writer.WriteStartObject("window");
        writer.WriteString("kind", candidate.Window.Kind);
        writer.WriteNumber("size", candidate.Window.Size);
        writer.WriteString("statistic", candidate.Window.Statistic.ToString().ToLowerInvariant());
        writer.WriteEndObject();
    }

    private static string Ms(int? value) => value is { } v ? v == int.MaxValue ? "503" : $"{v} ms" : "-";

    private static string Percent(double value) => (value * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";
}
