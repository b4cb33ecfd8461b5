using System.Text.Json;
using HaproxyAutoscale.Cli.Commands;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.Simulation;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Simulation;

/// <summary>What <c>tune</c> searches beyond a policy's own settings (the learned sizing, <c>slo.p95</c>, the forecast) and how it prints them.</summary>
public sealed class TunerTests
{
    private static readonly long Start = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    // 40 ± 10 ms alone (p95 49 ms), 2 workers per server.
    private static BackendModel Model(double fastestMs = 30)
    {
        var model = new BackendModel { Backend = "app", Workers = 2 };
        for (int i = 0; i <= 100; i++)
        {
            model.ServiceTimeQuantilesMs.Add(fastestMs + (0.2 * i));
        }

        return model;
    }

    private static AutoscaleOptions Options(string policy, TimeSpan? evaluation = null)
    {
        var options = new AutoscaleOptions { EvaluationInterval = evaluation ?? TimeSpan.FromSeconds(1) };
        var backend = new BackendOptions { Name = "app", Policy = { Kind = policy }, SettleTime = TimeSpan.FromSeconds(2) };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        foreach (string name in new[] { "s2", "s3", "s4" })
        {
            backend.Servers.Add(new ServerOptions { Name = name });
        }

        options.Backends.Add(backend);
        return options;
    }

    // Requests every `everyMs` for `seconds`, then every `stepEveryMs` for as long again.
    private static long[] Step(int seconds, int everyMs, int stepEveryMs)
    {
        var arrivals = new List<long>();
        for (long t = 0; t < seconds * 1000L; t += everyMs)
        {
            arrivals.Add(Start + t);
        }

        for (long t = seconds * 1000L; t < 2 * seconds * 1000L; t += stepEveryMs)
        {
            arrivals.Add(Start + t);
        }

        return [.. arrivals];
    }

    [Fact]
    public void SloVariants_FastApp_TheTuningSloAndTwiceAndOneAndAHalfTimesTheServiceP95_LoosestFirst()
    {
        TunerGrid.SloVariants(200, Model()).Should().Equal(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(98), TimeSpan.FromMilliseconds(74));
    }

    [Fact]
    public void SloVariants_AppTooSlowForATighterSlo_OnlyTheTuningSlo()
    {
        // p95 alone 149 ms: 1.5 × is 224 ms, looser than the 200 ms tuned for.
        TunerGrid.SloVariants(200, Model(fastestMs: 130)).Should().Equal(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Tune_Concurrency_GridSizesByInFlight_FinalistsAgainWithLearnedSizingAtEachSlo_NoForecastWithinADay()
    {
        TuneResult result = Tuner.Tune(Options("concurrency"), "app", Model(), Step(30, 25, 7), new TuneOptions { Budget = 0.05 });

        List<TuneCandidate> grid = [.. result.Evaluated.Where(c => c.PolicySettings["sizing"] == "in-flight")];
        List<TuneCandidate> learned = [.. result.Evaluated.Where(c => c.PolicySettings["sizing"] == "learned")];
        grid.Should().HaveCount(96).And.OnlyContain(c => c.SloP95 == null);
        learned.Should().NotBeEmpty().And.HaveCountLessThanOrEqualTo(4 * 3, "four finalists at three SLOs at most");
        learned.Select(c => c.SloP95!.Value.TotalMilliseconds).Distinct().Should().BeSubsetOf([200.0, 98, 74]);
        learned.Should().OnlyContain(c => grid.Any(g => g.PolicySettings.Where(s => s.Key != "sizing").SequenceEqual(c.PolicySettings.Where(s => s.Key != "sizing"))),
            "the learned sizing is tried on settings of the grid");
        result.Evaluated.Should().OnlyContain(c => c.Forecast == null, "the log covers less than a day");
        result.Recommended.Should().NotBeNull();
        result.Evaluated.Where(c => c.Result.RequestsOverSlo <= 0.05).Should().OnlyContain(c => c.Result.ServerSeconds >= result.Recommended!.Result.ServerSeconds);
    }

    [Fact]
    public void Tune_LogOfMoreThanADay_GridWithTheForecastOff_FinalistsAgainWithItOn()
    {
        // A request a minute for 25 hours, evaluated once a minute: cheap to simulate 150 times.
        long[] arrivals = [.. Enumerable.Range(0, 25 * 60).Select(i => Start + (i * 60_000L))];

        TuneResult result = Tuner.Tune(Options("threshold", TimeSpan.FromMinutes(1)), "app", Model(), arrivals, new TuneOptions { Budget = 0.05 });

        result.Evaluated.Count(c => c.Forecast == ForecastMode.Off).Should().Be(144);
        result.Evaluated.Count(c => c.Forecast == ForecastMode.On).Should().BeInRange(1, 2);
    }

    [Fact]
    public void TuneOutput_LearnedSizingSloAndForecast_PrintedInTheJsonToPaste()
    {
        var settings = new Dictionary<string, string> { ["targetInFlight"] = "2", ["sizing"] = "learned", ["stableWindow"] = "30s" };
        var window = new WindowOptions { Kind = "count", Size = 15, Statistic = WindowStatistic.Mean };
        BackendSimulation simulated = Simulator.Run(Options("threshold"), "app", Model(), [Start, Start + 100], new SimulationOptions { StaticServers = 1 });
        var best = new TuneCandidate(settings, window, simulated) { SloP95 = TimeSpan.FromMilliseconds(98), Forecast = ForecastMode.On };
        var result = new TuneResult([best], [best], best);

        string table = SimulationOutput.TuneTable(result, "concurrency", 0.01, 0);
        string pasted = table[(table.LastIndexOf('\n') + 1)..];
        using JsonDocument recommendation = JsonDocument.Parse(pasted);
        JsonElement root = recommendation.RootElement;
        root.GetProperty("policy").GetProperty("sizing").GetString().Should().Be("learned");
        root.GetProperty("policy").GetProperty("targetInFlight").GetDouble().Should().Be(2);
        root.GetProperty("slo").GetProperty("p95").GetString().Should().Be("98ms");
        root.GetProperty("forecast").GetProperty("mode").GetString().Should().Be("on");
        table.Should().Contain("slo.p95=98ms forecast=on");

        using JsonDocument json = JsonDocument.Parse(SimulationOutput.TuneJson(result, "concurrency", 0.01, 0));
        json.RootElement.GetProperty("recommended").GetProperty("slo").GetProperty("p95").GetString().Should().Be("98ms");
        json.RootElement.GetProperty("paretoFront")[0].GetProperty("forecast").GetProperty("mode").GetString().Should().Be("on");
    }

    [Fact]
    public void TuneOutput_NeitherSloNorForecastTried_NoSuchKeys()
    {
        var window = new WindowOptions { Kind = "count", Size = 15, Statistic = WindowStatistic.Mean };
        BackendSimulation simulated = Simulator.Run(Options("threshold"), "app", Model(), [Start, Start + 100], new SimulationOptions { StaticServers = 1 });
        var best = new TuneCandidate(new Dictionary<string, string> { ["thresholdMs"] = "120" }, window, simulated);

        string table = SimulationOutput.TuneTable(new TuneResult([best], [best], best), "threshold", 0.01, 0);

        table.Should().NotContain("slo").And.NotContain("forecast").And.NotContain("BACKEND");
    }
}
