using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Simulation;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Lab.Fidelity;

/// <summary>A policy the SLO rig runs: a label, the policy's kind and its settings (the rest of the backend at its defaults).</summary>
public sealed record SloPolicy(string Label, string Kind, IReadOnlyDictionary<string, string> Settings)
{
    public static IReadOnlyList<SloPolicy> All { get; } =
    [
        new("threshold", "threshold", new Dictionary<string, string>()),
        new("target", "target", new Dictionary<string, string> { ["targetMs"] = "100" }),
        new("concurrency", "concurrency", new Dictionary<string, string>()),
        new("concurrency-in-flight", "concurrency", new Dictionary<string, string> { ["sizing"] = "in-flight" }),
    ];

    public static SloPolicy Find(string label) => All.FirstOrDefault(p => p.Label == label)
        ?? throw new ArgumentException($"unknown policy '{label}' (use {string.Join(", ", All.Select(p => p.Label))})", nameof(label));
}

/// <summary>Live against simulated for one trace and policy on the SLO rig.</summary>
public sealed record SloRigFigures(
    string Scenario,
    string Policy,
    long Requests,
    long LoadFailed,
    long LateArrivals,
    int LiveViolationSeconds,
    double LiveServerSeconds,
    int LiveUps,
    int LiveDowns,
    int PredictedViolationSeconds,
    double PredictedServerSeconds,
    int KnownModelViolationSeconds,
    double KnownModelServerSeconds,
    int PhasedViolationSeconds,
    double PhasedServerSeconds,
    int PhasedKnownViolationSeconds,
    double PhasedKnownServerSeconds,
    TimeSpan LivePhase,
    string Spread,
    string Model,
    TimeSpan Wall)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Scenario} {Policy}: {Requests} requests ({LoadFailed} failed, {LateArrivals} sent >20 ms late); seconds over SLO live {LiveViolationSeconds} " +
        $"simulated {PredictedViolationSeconds} (known model {KnownModelViolationSeconds}); server-seconds live {LiveServerSeconds:0.0} simulated {PredictedServerSeconds:0.0} " +
        $"(known model {KnownModelServerSeconds:0.0}); at the live phase ({LivePhase.TotalMilliseconds:0} ms) seconds over SLO {PhasedViolationSeconds} (known model {PhasedKnownViolationSeconds}), " +
        $"server-seconds {PhasedServerSeconds:0.0} (known model {PhasedKnownServerSeconds:0.0}); live ups {LiveUps} downs {LiveDowns}; over seeds {Spread}; model {Model}; {Wall.TotalSeconds:0} s");
}

/// <summary>
/// Issue 23's rig: four <see cref="CapacityApp"/>s of 2 workers × 30–50 ms (50 requests/s each) with a 2 s cold start
/// paid by the warm-up, behind a real HAProxy (<c>maxconn 32</c>, <c>timeout queue 10s</c>), s1 always up; the
/// autoscaler live with its defaults (evaluation 1 s, settle 10 s) and one policy; SLO p95 ≤ 200 ms. Then
/// <c>simulate</c> on the run's own log (model fitted as <c>simulate</c> does, <c>--cold-start 2s --queue-timeout 10s</c>)
/// and with the apps' known model. Writes the log, a per-second timeline and both decision timelines next to it.
/// </summary>
public static class SloRig
{
    public const int Servers = 4;
    public const int MaxConn = 32;
    public static readonly TimeSpan ColdStart = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan Slo = TimeSpan.FromMilliseconds(200);

    /// <summary>40 requests/s for 30 s, 180 for 60 s, 40 for 60 s.</summary>
    public static FidelityScenario Step { get; } = new("step", [new(TimeSpan.FromSeconds(30), 40), new(TimeSpan.FromSeconds(60), 180), new(TimeSpan.FromSeconds(60), 40)]);

    /// <summary>50 requests/s with two 15 s spikes at 220 (at 30 s and 90 s), 150 s in all.</summary>
    public static FidelityScenario Spike { get; } = new("spike",
        [new(TimeSpan.FromSeconds(30), 50), new(TimeSpan.FromSeconds(15), 220), new(TimeSpan.FromSeconds(45), 50), new(TimeSpan.FromSeconds(15), 220), new(TimeSpan.FromSeconds(45), 50)]);

    public static AutoscaleOptions Options(IReadOnlyList<int> ports, SloPolicy policy)
    {
        var options = new AutoscaleOptions();
        var backend = new BackendOptions { Name = "app", Policy = { Kind = policy.Kind } };
        foreach ((string key, string value) in policy.Settings)
        {
            backend.Policy.Settings[key] = value;
        }

        FidelityExperiment.AddServers(backend, ports);

        options.Backends.Add(backend);
        return options;
    }

    /// <summary>The apps' true model (what the fit should find): 2 workers, service uniform 30–50 ms, maxconn 32, 2 s cold start.</summary>
    internal static BackendModel KnownModel()
    {
        var model = new BackendModel { Backend = "app", Workers = 2, MaxConn = MaxConn, ColdStartMs = ColdStart.TotalMilliseconds };
        for (int i = 0; i <= 100; i++)
        {
            model.ServiceTimeQuantilesMs.Add(30 + (0.2 * i));
        }

        return model;
    }

    public static async Task<SloRigFigures> RunAsync(FidelityScenario scenario, SloPolicy policy, string logPath, int seed = 1, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        var apps = new List<CapacityApp>();
        for (int i = 0; i < Servers; i++)
        {
            apps.Add(new CapacityApp($"s{i + 1}", (seed * 100) + i) { Workers = 2, MinServiceMs = 30, MaxServiceMs = 50, ColdStart = i == 0 ? TimeSpan.Zero : ColdStart });
        }

        var events = new EventCapture(LogLevel.Debug);
        var samples = new List<(DateTimeOffset Time, int Capacity)>();
        LoadOutcome outcome;
        AutoscaleOptions options;
        try
        {
            options = Options([.. apps.Select(a => a.Port)], policy);
            int frontendPort = Ports.FreeTcp();
            await using ILogSource source = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0), AutoscalerBuilder.DatagramOptions(options));
            using var tee = new UdpRelay((IPEndPoint)((DatagramLogSource)source).LocalEndPoint, logPath);
            using var dir = new TempDirectory("hpa-slorig-");
            HaproxyBackend backend = HaproxyBackend.FirstUp("app", apps.Select(a => (a.Name, a.Port)), weight: null, options: $"maxconn {MaxConn}");
            backend.Lines.Add($"timeout queue {QueueTimeout.TotalSeconds:0}s");
            HaproxyConfig config = HaproxyConfig.ForApps(dir.File("admin.sock"), frontendPort, backend, HaproxyLogTarget.Udp(tee.Port));
            (config.ClientTimeout, config.ServerTimeout) = ("20s", "20s");
            await using Haproxy haproxy = await Haproxy.StartAsync(config, dir, cancellationToken);
            options.Haproxy.Endpoints.Add(dir.File("admin.sock"));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(source).UseLoggerFactory(events).Build();
            Task running = autoscaler.RunAsync(stop.Token);
            Task sampling = FidelityExperiment.SampleAsync(autoscaler, samples, stop.Token);
            await autoscaler.Started.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);

            progress?.WriteLine($"{scenario.Name} {policy.Label}: load starts");
            TimeSpan[] arrivals = OpenLoopLoad.Arrivals(scenario.Phases, seed);
            outcome = await OpenLoopLoad.RunAsync(new Uri($"http://127.0.0.1:{frontendPort}/page"), arrivals, TimeSpan.FromSeconds(30), cancellationToken);
            progress?.WriteLine($"{scenario.Name} {policy.Label}: load done: {outcome}");
            await Poll.TryUntilAsync(() => tee.Lines >= outcome.Sent, TimeSpan.FromSeconds(5), cancellationToken);
            await Task.Delay(300, cancellationToken);
            await stop.CancelAsync();
            await running;
            await sampling;
        }
        finally
        {
            foreach (CapacityApp app in apps)
            {
                await app.DisposeAsync();
            }
        }

        return Compare(scenario, policy, options, logPath, outcome, events, samples, wall.Elapsed);
    }

    private static SloRigFigures Compare(FidelityScenario scenario, SloPolicy policy, AutoscaleOptions options, string logPath, LoadOutcome outcome, EventCapture events,
        List<(DateTimeOffset Time, int Capacity)> samples, TimeSpan wall)
    {
        var parser = new HaproxyLogParser();
        var arrivalLog = new ArrivalLog(["app"]);
        var completions = new List<(long End, int Latency)>();
        foreach (byte[] line in FidelityExperiment.ReadLines(logPath))
        {
            if (parser.TryParse(line, out RequestRecord record) && record.Backend == "app")
            {
                arrivalLog.Add(record);
                long start = new DateTimeOffset(DateTime.SpecifyKind(record.AcceptDate, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
                int latency = Math.Max(0, record.QueueTime) + Math.Max(0, record.ConnectTime) + Math.Max(0, record.ResponseTime);
                bool failed = record.HasNoServer || record.StatusCode >= 500 || record.ResponseTime < 0;
                completions.Add((start + latency, failed ? int.MaxValue : latency)); // as the simulator counts a 503
            }
        }

        long[] arrivals = arrivalLog.ArrivalsOf("app");
        long first = arrivals[0];
        long last = completions.Max(c => c.End);
        TimeSpan offset = TimeZoneInfo.Local.GetUtcOffset(DateTime.Now); // the log's dates are HAProxy's local time
        long fromUtc = first - (long)offset.TotalMilliseconds;
        int seconds = (int)((last - first + 999) / 1000);
        double liveServerSeconds = FidelityExperiment.Integrate(samples, fromUtc, fromUtc + (seconds * 1000L));
        int?[] liveP95 = PerSecondP95(completions, first, seconds);
        int liveViolations = liveP95.Count(p => p > Slo.TotalMilliseconds);

        (BackendModel model, ServerModelFitResult fit) = FidelityExperiment.FitModel(logPath, ColdStart);
        TimeSpan phase = LivePhase(events, fromUtc, options.EvaluationInterval);
        List<BackendSimulation> Runs(BackendModel m, TimeSpan? at) =>
            [.. Enumerable.Range(1, FidelityExperiment.Seeds).Select(seed => Simulator.Run(options, "app", m, arrivals, Simulation(seed, at)))];
        List<BackendSimulation> runs = Runs(model, null), known = Runs(KnownModel(), null), phased = Runs(model, phase), phasedKnown = Runs(KnownModel(), phase);
        BackendSimulation median = phased.OrderBy(r => r.ViolationSeconds).ThenBy(r => r.ServerSeconds).ElementAt(phased.Count / 2);
        string spread = string.Create(CultureInfo.InvariantCulture,
            $"seconds over SLO {runs.Min(r => r.ViolationSeconds)}..{runs.Max(r => r.ViolationSeconds)}, server-seconds {runs.Min(r => r.ServerSeconds):0.0}..{runs.Max(r => r.ServerSeconds):0.0}; known model {known.Min(r => r.ViolationSeconds)}..{known.Max(r => r.ViolationSeconds)} s over SLO; at the live phase {phased.Min(r => r.ViolationSeconds)}..{phased.Max(r => r.ViolationSeconds)} s, known model {phasedKnown.Min(r => r.ViolationSeconds)}..{phasedKnown.Max(r => r.ViolationSeconds)} s");
        string stem = Path.ChangeExtension(logPath, null);
        WriteTimeline(stem + ".timeline.csv", median, liveP95, samples, fromUtc);
        WriteDecisions(stem + ".decisions.txt", events, fromUtc, [("fitted", runs), ("known", known), ("fitted, live phase", phased), ("known, live phase", phasedKnown)], first);
        string modelText = string.Create(CultureInfo.InvariantCulture,
            $"k={model.Workers:0.00} service p5/p50/p95={model.SampleServiceMs(0.05):0}/{model.SampleServiceMs(0.5):0}/{model.SampleServiceMs(0.95):0} ms maxConn={model.MaxConn?.ToString(CultureInfo.InvariantCulture) ?? "none"}{(fit.Notes.Count == 0 ? "" : $" ({string.Join("; ", fit.Notes)})")}");
        return new SloRigFigures(scenario.Name, policy.Label, completions.Count, outcome.Failed, outcome.Late, liveViolations, liveServerSeconds,
            events.Count(AutoscaleEventIds.Decision, "decided up"), events.Count(AutoscaleEventIds.Decision, "decided down"),
            MedianViolations(runs), MedianServerSeconds(runs), MedianViolations(known), MedianServerSeconds(known),
            MedianViolations(phased), MedianServerSeconds(phased), MedianViolations(phasedKnown), MedianServerSeconds(phasedKnown), phase, spread, modelText, wall);
    }

    private static int MedianViolations(List<BackendSimulation> runs) => (int)runs.Select(r => r.ViolationSeconds).Order().ElementAt(runs.Count / 2);

    private static double MedianServerSeconds(List<BackendSimulation> runs) => runs.Select(r => r.ServerSeconds).Order().ElementAt(runs.Count / 2);

    // When the live daemon's first evaluation after the first arrival came (every evaluation logs a decision or a hold).
    private static TimeSpan LivePhase(EventCapture events, long fromUtc, TimeSpan interval)
    {
        long first = events.Events.Where(e => e.Id is AutoscaleEventIds.Decision or AutoscaleEventIds.Hold or AutoscaleEventIds.HeldByGate or AutoscaleEventIds.HeldBack)
            .Select(e => e.Time.ToUnixTimeMilliseconds() - fromUtc).Where(t => t >= 0).DefaultIfEmpty((long)interval.TotalMilliseconds).Min();
        return TimeSpan.FromMilliseconds(Math.Min(first, (long)interval.TotalMilliseconds));
    }

    private static SimulationOptions Simulation(int seed, TimeSpan? phase = null) =>
        new() { Slo = Slo, QueueTimeout = QueueTimeout, KeepTimeline = true, Seed = seed, EvaluationPhase = phase };

    /// <summary>
    /// Simulates a recorded run's log again (known model, and fitted) with the first evaluation <paramref name="phase"/>
    /// after the first arrival: each seed's figures and decisions.
    /// </summary>
    public static string Resimulate(string logPath, SloPolicy policy, TimeSpan? phase)
    {
        var arrivalLog = new ArrivalLog(["app"]);
        var parser = new HaproxyLogParser();
        foreach (byte[] line in FidelityExperiment.ReadLines(logPath))
        {
            if (parser.TryParse(line, out RequestRecord record))
            {
                arrivalLog.Add(record);
            }
        }

        long[] arrivals = arrivalLog.ArrivalsOf("app");
        AutoscaleOptions options = Options([1, 2, 3, 4], policy);
        var text = new StringBuilder();
        foreach ((string name, BackendModel model) in new[] { ("known", KnownModel()), ("fitted", FidelityExperiment.FitModel(logPath, ColdStart).Model) })
        {
            var runs = Enumerable.Range(1, FidelityExperiment.Seeds).Select(seed => Simulator.Run(options, "app", model, arrivals, Simulation(seed, phase))).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"{name} model: seconds over SLO median {runs.Select(r => r.ViolationSeconds).Order().ElementAt(runs.Count / 2)} ({runs.Min(r => r.ViolationSeconds)}..{runs.Max(r => r.ViolationSeconds)}), server-seconds median {runs.Select(r => r.ServerSeconds).Order().ElementAt(runs.Count / 2):0.0}");
            for (int i = 0; i < runs.Count; i++)
            {
                string decisions = string.Join("; ", runs[i].Decisions.Select(p => string.Create(CultureInfo.InvariantCulture,
                    $"{(p.Time.ToUnixTimeMilliseconds() - arrivals[0]) / 1000.0:0.0} {p.Decision.Action} {string.Join(",", p.Servers)} ({p.Window.Value:0} ms)")));
                text.AppendLine(CultureInfo.InvariantCulture, $"  seed {i + 1}: {runs[i].ViolationSeconds} s, {runs[i].ServerSeconds:0.0} server-s: {decisions}");
            }
        }

        return text.ToString();
    }

    // Nearest-rank p95 of the requests that ended in each second from the first arrival, as the simulator counts.
    private static int?[] PerSecondP95(List<(long End, int Latency)> completions, long first, int seconds)
    {
        var bySecond = new List<int>[seconds];
        foreach ((long end, int latency) in completions)
        {
            int second = (int)Math.Min(seconds - 1, (end - first) / 1000);
            (bySecond[second] ??= []).Add(latency);
        }

        return [.. bySecond.Select(l => l is null ? (int?)null : l.Order().ElementAt(Math.Max(0, (int)Math.Ceiling(0.95 * l.Count) - 1)))];
    }

    private static void WriteTimeline(string path, BackendSimulation simulated, int?[] liveP95, List<(DateTimeOffset Time, int Capacity)> samples, long fromUtc)
    {
        using var output = new StreamWriter(path);
        output.WriteLine("second,arrivals,live_active,simulated_active,live_p95,simulated_p95");
        for (int i = 0; i < Math.Max(liveP95.Length, simulated.Timeline.Count); i++)
        {
            long end = fromUtc + ((i + 1) * 1000L);
            int live = samples.LastOrDefault(s => s.Time.ToUnixTimeMilliseconds() <= end).Capacity;
            SimulationSecond? second = i < simulated.Timeline.Count ? simulated.Timeline[i] : null;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i},{second?.Arrivals},{live},{second?.Active},{(i < liveP95.Length ? liveP95[i] : null)},{second?.P95Ms}"));
        }
    }

    // The live daemon's decisions and holds, and each simulation's decisions, in seconds from the first arrival.
    private static void WriteDecisions(string path, EventCapture events, long fromUtc, (string Name, List<BackendSimulation> Runs)[] simulations, long first)
    {
        using var output = new StreamWriter(path);
        output.WriteLine("live (seconds from the first arrival):");
        foreach ((DateTimeOffset time, int id, string message) in events.Events.Where(e => e.Id is AutoscaleEventIds.Decision or AutoscaleEventIds.Hold or AutoscaleEventIds.HeldByGate or AutoscaleEventIds.HeldBack))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(time.ToUnixTimeMilliseconds() - fromUtc) / 1000.0,8:0.000} [{id}] {message}"));
        }

        foreach ((string name, List<BackendSimulation> set) in simulations)
        {
            for (int i = 0; i < set.Count; i++)
            {
                output.WriteLine($"simulated, {name}, seed {i + 1}: {set[i].ViolationSeconds} s over SLO, {set[i].ServerSeconds:0.0} server-seconds");
                foreach (ScalingPlan plan in set[i].Decisions)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {(plan.Time.ToUnixTimeMilliseconds() - first) / 1000.0,8:0.000} {plan.Decision.Action} {string.Join(",", plan.Servers)}: {plan.Decision.Reason} (window {plan.Window.Value:0} ms)"));
                }
            }
        }
    }
}
