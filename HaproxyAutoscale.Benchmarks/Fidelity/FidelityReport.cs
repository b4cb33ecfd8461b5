using System.Globalization;
using HaproxyAutoscale.Lab.Fidelity;

namespace HaproxyAutoscale.Benchmarks.Fidelity;

/// <summary>The <c>fidelity</c> verb: runs the scenarios live and simulated and prints a Markdown table.</summary>
public static class FidelityReport
{
    public static async Task RunAsync(string which, string logDirectory)
    {
        FidelityScenario[] scenarios = which switch
        {
            "step" => [FidelityScenario.Step],
            "spike" => [FidelityScenario.Spike],
            _ => [FidelityScenario.Step, FidelityScenario.Spike],
        };
        var results = new List<FidelityFigures>();
        foreach (FidelityScenario scenario in scenarios)
        {
            string log = Path.Combine(logDirectory, $"fidelity-{scenario.Name}.log");
            FidelityFigures figures = await FidelityExperiment.RunAsync(scenario, log, progress: Console.Error);
            Console.Error.WriteLine(figures);
            results.Add(figures);
        }

        Console.WriteLine(Table(results));
    }

    public static string Table(IEnumerable<FidelityFigures> results)
    {
        var table = new System.Text.StringBuilder();
        table.AppendLine("| load | requests | server-seconds live | predicted | error (±15 %) | p95 live | predicted | error (±25 %) | scale-ups live | predicted (±1) | scale-downs live | predicted |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (FidelityFigures f in results)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {f.Scenario} | {f.Requests} | {f.LiveServerSeconds:0.0} | {f.PredictedServerSeconds:0.0} | {f.ServerSecondsError:+0.0%;-0.0%} | {f.LiveP95Ms} ms | {f.PredictedP95Ms} ms | {f.P95Error:+0.0%;-0.0%} | {f.LiveScaleUps} | {f.PredictedScaleUps} | {f.LiveScaleDowns} | {f.PredictedScaleDowns} |"));
        }

        foreach (FidelityFigures f in results)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"\n{f.Scenario}: fitted model {f.Model}; predictions over {FidelityExperiment.Seeds} seeds (median shown): {f.PredictedSpread}; {f.LiveFailed} failed, {f.LateArrivals} sent >20 ms late; {f.Wall.TotalSeconds:0} s wall");
        }

        return table.ToString();
    }
}
