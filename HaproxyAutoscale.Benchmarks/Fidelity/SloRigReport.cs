using System.Globalization;
using HaproxyAutoscale.Lab.Fidelity;

namespace HaproxyAutoscale.Benchmarks.Fidelity;

/// <summary>The <c>slo-rig</c> verb: issue 23's rig live with each policy asked for, then simulated on its own log; prints a Markdown table.</summary>
public static class SloRigReport
{
    public static async Task RunAsync(string traces, string policies, string logDirectory)
    {
        FidelityScenario[] scenarios = [.. traces.Split(',').Select(t => t switch
        {
            "step" => SloRig.Step,
            "spike" => SloRig.Spike,
            _ => throw new ArgumentException($"unknown trace '{t}' (use step, spike)", nameof(traces)),
        })];
        SloPolicy[] chosen = policies == "all" ? [.. SloPolicy.All] : [.. policies.Split(',').Select(SloPolicy.Find)];
        var results = new List<SloRigFigures>();
        foreach (FidelityScenario scenario in scenarios)
        {
            foreach (SloPolicy policy in chosen)
            {
                string log = Path.Combine(logDirectory, $"slo-{scenario.Name}-{policy.Label}.log");
                SloRigFigures figures = await SloRig.RunAsync(scenario, policy, log, progress: Console.Error);
                Console.Error.WriteLine(figures);
                results.Add(figures);
            }
        }

        Console.WriteLine(Table(results));
        foreach (SloRigFigures f in results)
        {
            Console.WriteLine($"\n{f.Scenario} {f.Policy}: fitted {f.Model}; over {FidelityExperiment.Seeds} seeds (median shown): {f.Spread}; {f.LoadFailed} failed at the client, {f.LateArrivals} sent >20 ms late; {f.Wall.TotalSeconds:0} s wall");
        }
    }

    // Seconds over SLO and server-seconds live and simulated on the run's own log: the simulation's first evaluation
    // one interval after the first request (before) and at the live daemon's phase (after), fitted and known model.
    public static string Table(IEnumerable<SloRigFigures> results)
    {
        var table = new System.Text.StringBuilder();
        table.AppendLine("| trace | policy | requests | live phase | seconds over SLO live | simulated before (fitted / known model) | simulated at the live phase (fitted / known) | server-seconds live | simulated before (fitted / known) | simulated at the live phase (fitted / known) | scale-ups / downs live |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (SloRigFigures f in results)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {f.Scenario} | {f.Policy} | {f.Requests} | {f.LivePhase.TotalMilliseconds:0} ms | {f.LiveViolationSeconds} | {f.PredictedViolationSeconds} / {f.KnownModelViolationSeconds} | {f.PhasedViolationSeconds} / {f.PhasedKnownViolationSeconds} | {f.LiveServerSeconds:0.0} | {f.PredictedServerSeconds:0.0} / {f.KnownModelServerSeconds:0.0} | {f.PhasedServerSeconds:0.0} / {f.PhasedKnownServerSeconds:0.0} | {f.LiveUps} / {f.LiveDowns} |"));
        }

        return table.ToString();
    }
}
