using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// What <c>simulate</c> and <c>tune</c> print: the table or JSON per backend, the <c>--timeline</c> CSV, the Pareto
/// front and the recommended setting (the scale-to-zero figures come from <see cref="SimulateZeroOutput"/>).
/// </summary>
internal static class SimulationOutput
{
    internal static async Task WriteTimelineAsync(string path, List<BackendSimulation> results, CancellationToken cancellationToken)
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

    internal static string SimulationTable(List<BackendSimulation> results)
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

    internal static string SimulationJson(List<BackendSimulation> results) => JsonOutput.Write(writer =>
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

    internal static void WriteNullable(Utf8JsonWriter writer, string name, int? value)
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

    internal static string TuneTable(TuneResult result, string policy, double budget, double deadlineBudget)
    {
        bool zero = SimulateZeroOutput.Any(result.Evaluated.Select(c => c.Result));
        var rows = new List<string[]> { new[] { "SERVER-S", "OVER-SLO", "P95", "FLAPS", "POLICY SETTINGS", "WINDOW" } };
        rows.AddRange(result.ParetoFront.Select(c => new[]
        {
            c.Result.ServerSeconds.ToString("0", CultureInfo.InvariantCulture), Percent(c.Result.RequestsOverSlo), Ms(c.Result.P95Ms), c.Result.Flaps.ToString(CultureInfo.InvariantCulture),
            string.Join(" ", c.PolicySettings.Select(s => $"{s.Key}={s.Value}")), $"{c.Window.Kind} {c.Window.Size} {c.Window.Statistic.ToString().ToLowerInvariant()}",
        }));
        if (result.ParetoFront.Any(c => c.SloP95 is not null || c.Forecast is not null))
        {
            rows[0] = [.. rows[0], "BACKEND"];
            for (int i = 1; i < rows.Count; i++)
            {
                rows[i] = [.. rows[i], BackendKeys(result.ParetoFront[i - 1])];
            }
        }

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

    internal static string TuneJson(TuneResult result, string policy, double budget, double deadlineBudget) => JsonOutput.Write(writer =>
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
        if (candidate.SloP95 is { } p95)
        {
            writer.WriteStartObject("slo");
            writer.WriteString("p95", Milliseconds(p95));
            writer.WriteEndObject();
        }

        if (candidate.Forecast is { } forecast)
        {
            writer.WriteStartObject("forecast");
            writer.WriteString("mode", ForecastModes.Name(forecast));
            writer.WriteEndObject();
        }
    }

    // The backend keys a candidate sets besides its policy and window, for the table: "slo.p95=98ms forecast=on".
    private static string BackendKeys(TuneCandidate candidate) => string.Join(" ", new[]
    {
        candidate.SloP95 is { } p95 ? $"slo.p95={Milliseconds(p95)}" : null,
        candidate.Forecast is { } forecast ? $"forecast={ForecastModes.Name(forecast)}" : null,
    }.OfType<string>());

    private static string Milliseconds(TimeSpan duration) => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0}ms");

    private static string Ms(int? value) => value is { } v ? v == int.MaxValue ? "503" : $"{v} ms" : "-";

    private static string Percent(double value) => (value * 100).ToString("0.##", CultureInfo.InvariantCulture) + "%";
}
