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

        Console.WriteLine("| trace | policy | requests | seconds over SLO live | simulated (fitted) | simulated (known model) | server-seconds live | simulated (fitted) | error | known model | scale-ups live | downs live |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (SloRigFigures f in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {f.Scenario} | {f.Policy} | {f.Requests} | {f.LiveViolationSeconds} | {f.PredictedViolationSeconds} | {f.KnownModelViolationSeconds} | {f.LiveServerSeconds:0.0} | {f.PredictedServerSeconds:0.0} | {(f.PredictedServerSeconds - f.LiveServerSeconds) / f.LiveServerSeconds:+0.0%;-0.0%} | {f.KnownModelServerSeconds:0.0} | {f.LiveUps} | {f.LiveDowns} |"));
        }

        foreach (SloRigFigures f in results)
        {
            Console.WriteLine($"\n{f.Scenario} {f.Policy}: fitted {f.Model}; over {FidelityExperiment.Seeds} seeds (median shown): {f.Spread}; {f.LoadFailed} failed at the client, {f.LateArrivals} sent >20 ms late; {f.Wall.TotalSeconds:0} s wall");
        }
    }
}
