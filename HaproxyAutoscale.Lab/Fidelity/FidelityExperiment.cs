using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Lab.Fidelity;

/// <summary>A load to run live and to simulate: a name and its rate schedule.</summary>
public sealed record FidelityScenario(string Name, IReadOnlyList<LoadPhase> Phases)
{
    /// <summary>20 requests/s for 20 s, then 120 requests/s for 40 s.</summary>
    public static FidelityScenario Step { get; } = new("step", [new(TimeSpan.FromSeconds(20), 20), new(TimeSpan.FromSeconds(40), 120)]);

    /// <summary>20 requests/s for 15 s, 200 requests/s for 10 s, 20 requests/s for 20 s.</summary>
    public static FidelityScenario Spike { get; } = new("spike", [new(TimeSpan.FromSeconds(15), 20), new(TimeSpan.FromSeconds(10), 200), new(TimeSpan.FromSeconds(20), 20)]);
}

/// <summary>Live against predicted for one scenario.</summary>
public sealed record FidelityFigures(
    string Scenario,
    long Requests,
    long LiveFailed,
    long LateArrivals,
    double LiveServerSeconds,
    double PredictedServerSeconds,
    int LiveP95Ms,
    int PredictedP95Ms,
    int LiveScaleUps,
    int PredictedScaleUps,
    int LiveScaleDowns,
    int PredictedScaleDowns,
    string Model,
    string LogPath,
    TimeSpan Wall)
{
    /// <summary>The range of the predictions over the seeds.</summary>
    public string PredictedSpread { get; init; } = "";

    /// <summary>The live autoscaler's information events by id.</summary>
    public string LiveEvents { get; init; } = "";

    public double ServerSecondsError => (PredictedServerSeconds - LiveServerSeconds) / LiveServerSeconds;

    public double P95Error => (PredictedP95Ms - LiveP95Ms) / (double)LiveP95Ms;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Scenario}: {Requests} requests ({LiveFailed} failed, {LateArrivals} sent >20 ms late); server-seconds live {LiveServerSeconds:0.0} predicted {PredictedServerSeconds:0.0} ({ServerSecondsError:+0.0%;-0.0%}); " +
        $"p95 live {LiveP95Ms} ms predicted {PredictedP95Ms} ms ({P95Error:+0.0%;-0.0%}); scale-ups live {LiveScaleUps} predicted {PredictedScaleUps}; " +
        $"scale-downs live {LiveScaleDowns} predicted {PredictedScaleDowns}; model {Model}; over {FidelityExperiment.Seeds} seeds {PredictedSpread}; live {LiveEvents}; {Wall.TotalSeconds:0} s");
}

/// <summary>
/// Runs a load against a real HAProxy in front of <see cref="CapacityApp"/>s, with the autoscaler live (in process,
/// fed over UDP), writing every log line HAProxy sent to a file; then fits the server model from that file and
/// simulates it with the same options, as <c>simulate</c> does, and compares.
/// </summary>
public static class FidelityExperiment
{
    public const int Servers = 6;
    public const double Workers = 2;
    public const double MinServiceMs = 30;
    public const double MaxServiceMs = 70;
    public const int MaxConn = 8;

    /// <summary>Simulations per run (seeds 1..N); the prediction is their median.</summary>
    public const int Seeds = 15;
    public static readonly TimeSpan ColdStart = TimeSpan.FromMilliseconds(500);

    /// <summary>The autoscaler's options for the run (and the simulation): short intervals, a threshold policy.</summary>
    public static AutoscaleOptions Options(IReadOnlyList<int> ports)
    {
        var options = new AutoscaleOptions
        {
            EvaluationInterval = TimeSpan.FromMilliseconds(200),
            ReconcileInterval = TimeSpan.FromMilliseconds(500),
            CounterInterval = TimeSpan.FromMilliseconds(500),
        };
        options.Warmup.Attempts = 2;
        options.Warmup.RetryDelay = TimeSpan.FromMilliseconds(100);
        var backend = new BackendOptions { Name = "app", Policy = { Kind = "threshold" }, SettleTime = TimeSpan.FromSeconds(1) };
        backend.Window.Size = 20;
        backend.Policy.Settings["thresholdMs"] = "150";
        backend.Policy.Settings["breaches"] = "3";
        backend.Policy.Settings["idleScaleDown"] = "0s";
        backend.ScaleDown.DrainTimeout = TimeSpan.FromSeconds(3);
        AddServers(backend, ports);

        options.Backends.Add(backend);
        return options;
    }

    /// <summary>One server per app port: s1 always up, the others parked with the app's warm-up URL (its cold start).</summary>
    public static void AddServers(BackendOptions backend, IReadOnlyList<int> ports)
    {
        for (int i = 0; i < ports.Count; i++)
        {
            backend.Servers.Add(i == 0
                ? new ServerOptions { Name = "s1", AlwaysUp = true }
                : new ServerOptions { Name = $"s{i + 1}", WarmupUrl = new Uri($"http://127.0.0.1:{ports[i]}/warmup") });
        }
    }

    public static async Task<FidelityFigures> RunAsync(FidelityScenario scenario, string logPath, int seed = 1, TextWriter? progress = null, CancellationToken cancellationToken = default)
    {
        var wall = Stopwatch.StartNew();
        var apps = new List<CapacityApp>();
        for (int i = 0; i < Servers; i++)
        {
            apps.Add(new CapacityApp($"s{i + 1}", seed * 100 + i)
            {
                Workers = Workers,
                MinServiceMs = MinServiceMs,
                MaxServiceMs = MaxServiceMs,
                ColdStart = i == 0 ? TimeSpan.Zero : ColdStart,
            });
        }

        var events = new EventCapture();
        var samples = new List<(DateTimeOffset Time, int Capacity)>();
        LoadOutcome outcome;
        AutoscaleOptions options;
        int frontendPort = Ports.FreeTcp();
        try
        {
            options = Options([.. apps.Select(a => a.Port)]);
            await using ILogSource source = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0), AutoscalerBuilder.DatagramOptions(options));
            using var tee = new UdpRelay((IPEndPoint)((DatagramLogSource)source).LocalEndPoint, logPath);
            using var dir = new TempDirectory("hpa-fidelity-");
            HaproxyBackend backend = HaproxyBackend.FirstUp("app", apps.Select(a => (a.Name, a.Port)), weight: null, options: $"maxconn {MaxConn}");
            backend.Lines.Add("timeout queue 30s");
            HaproxyConfig config = HaproxyConfig.ForApps(dir.File("admin.sock"), frontendPort, backend, HaproxyLogTarget.Udp(tee.Port));
            (config.ClientTimeout, config.ServerTimeout) = ("5s", "5s");
            await using Haproxy haproxy = await Haproxy.StartAsync(config, dir, cancellationToken);
            options.Haproxy.Endpoints.Add(dir.File("admin.sock"));
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(source).UseLoggerFactory(events).Build();
            Task running = autoscaler.RunAsync(stop.Token);
            Task sampling = SampleAsync(autoscaler, samples, stop.Token);
            await Poll.UntilAsync(() => autoscaler.Snapshot().Single().Servers.Count(s => s.Role == ServerRole.Active) == 1, TimeSpan.FromSeconds(10), "s1 active", cancellationToken);

            progress?.WriteLine($"{scenario.Name}: load starts");
            TimeSpan[] arrivals = OpenLoopLoad.Arrivals(scenario.Phases, seed);
            outcome = await OpenLoopLoad.RunAsync(new Uri($"http://127.0.0.1:{frontendPort}/page"), arrivals, TimeSpan.FromSeconds(20), cancellationToken);
            progress?.WriteLine($"{scenario.Name}: load done: {outcome}");

            // Every answer's log line reaches the file (and the autoscaler) shortly after the answer.
            await Poll.TryUntilAsync(() => tee.Lines >= outcome.Sent, TimeSpan.FromSeconds(5), cancellationToken);
            await Task.Delay(300, cancellationToken); // a last sample of the roles after the last line
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

        return Compare(scenario, options, logPath, outcome, events, samples, wall.Elapsed);
    }

    private static FidelityFigures Compare(FidelityScenario scenario, AutoscaleOptions options, string logPath, LoadOutcome outcome, EventCapture events,
        List<(DateTimeOffset Time, int Capacity)> samples, TimeSpan wall)
    {
        // The live run, from the log HAProxy wrote: each request's start and Tw + Tc + Tr.
        var parser = new HaproxyLogParser();
        var arrivalLog = new ArrivalLog(["app"]);
        var latencies = new List<int>();
        var completions = new List<(long End, int Latency)>();
        long first = long.MaxValue, last = long.MinValue;
        foreach (byte[] line in ReadLines(logPath))
        {
            if (!parser.TryParse(line, out RequestRecord record) || record.Backend != "app")
            {
                continue;
            }

            arrivalLog.Add(record);

            long start = new DateTimeOffset(DateTime.SpecifyKind(record.AcceptDate, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
            int latency = Math.Max(0, record.QueueTime) + Math.Max(0, record.ConnectTime) + Math.Max(0, record.ResponseTime);
            latencies.Add(latency);
            completions.Add((start + latency, latency));
            first = Math.Min(first, start);
            last = Math.Max(last, start + latency);
        }

        latencies.Sort();
        int liveP95 = latencies.Count == 0 ? 0 : latencies[Math.Max(0, (int)Math.Ceiling(0.95 * latencies.Count) - 1)];

        // The log's dates are HAProxy's local time: the offset to the autoscaler's UTC samples.
        TimeSpan offset = TimeZoneInfo.Local.GetUtcOffset(DateTime.Now);
        long from = first - (long)offset.TotalMilliseconds;
        long to = from + ((last - first + 999) / 1000 * 1000); // to the end of the last second, as the simulator counts
        double liveServerSeconds = Integrate(samples, from, to);
        int liveUps = events.Count(AutoscaleEventIds.Decision, "decided up");
        int liveDowns = events.Count(AutoscaleEventIds.Decision, "decided down");

        (BackendModel model, ServerModelFitResult fit) = FitModel(logPath);
        long[] arrivals = arrivalLog.ArrivalsOf("app");
        // The model's randomness is the service draws: the prediction is the median over a few seeds (the run's own
        // draws are one more sample of the same distribution).
        var runs = new List<(BackendSimulation Result, int Ups, int Downs)>();
        for (int seed = 1; seed <= Seeds; seed++)
        {
            BackendSimulation run = Simulator.Run(options, "app", model, arrivals, new SimulationOptions { KeepTimeline = true, Seed = seed });
            int up = 0, down = 0, before = options.Backends[0].EffectiveMinActive;
            foreach (SimulationSecond second in run.Timeline)
            {
                up += Math.Max(0, second.Active - before);
                down += Math.Max(0, before - second.Active);
                before = second.Active;
            }

            runs.Add((run, up, down));
        }

        var bySeconds = runs.OrderBy(r => r.Result.ServerSeconds).ToList();
        BackendSimulation predicted = bySeconds[bySeconds.Count / 2].Result;
        double predictedSeconds = predicted.ServerSeconds;
        int predictedP95 = runs.Select(r => r.Result.P95Ms ?? 0).Order().ElementAt(runs.Count / 2);
        int ups = runs.Select(r => r.Ups).Order().ElementAt(runs.Count / 2);
        int downs = runs.Select(r => r.Downs).Order().ElementAt(runs.Count / 2);
        string spread = string.Create(CultureInfo.InvariantCulture,
            $"server-seconds {bySeconds[0].Result.ServerSeconds:0.0}..{bySeconds[^1].Result.ServerSeconds:0.0}, p95 {runs.Min(r => r.Result.P95Ms)}..{runs.Max(r => r.Result.P95Ms)} ms, scale-ups {runs.Min(r => r.Ups)}..{runs.Max(r => r.Ups)}");
        WriteTimeline(Path.ChangeExtension(logPath, ".timeline.csv"), predicted, completions, samples, first, from);
        string modelText = string.Create(CultureInfo.InvariantCulture,
            $"k={model.Workers:0.00} service p5/p50/p95={model.SampleServiceMs(0.05):0}/{model.SampleServiceMs(0.5):0}/{model.SampleServiceMs(0.95):0} ms maxConn={model.MaxConn?.ToString(CultureInfo.InvariantCulture) ?? "none"} coldStart={model.ColdStartMs:0} ms{(fit.Notes.Count == 0 ? "" : $" (notes: {string.Join("; ", fit.Notes)})")}");
        return new FidelityFigures(scenario.Name, latencies.Count, outcome.Failed, outcome.Late, liveServerSeconds, predictedSeconds, liveP95, predictedP95,
            liveUps, ups, liveDowns, downs, modelText, logPath, wall) { PredictedSpread = spread, LiveEvents = events.Summary() };
    }

    /// <summary>
    /// The server model the simulation uses, fitted from the run's log as <c>simulate</c> does (the cold start, which no
    /// log shows, is given as <c>simulate --cold-start</c> would be: the apps' warm-up time).
    /// </summary>
    internal static (BackendModel Model, ServerModelFitResult Fit) FitModel(string logPath) => FitModel(logPath, ColdStart);

    internal static (BackendModel Model, ServerModelFitResult Fit) FitModel(string logPath, TimeSpan coldStart)
    {
        var fitter = new ServerModelFitter(coldStartMs: coldStart.TotalMilliseconds);
        foreach (byte[] line in ReadLines(logPath))
        {
            fitter.AddLine(line);
        }

        ServerModelFitResult fit = fitter.Fit();
        return (fit.Model.Find("app") ?? throw new InvalidOperationException($"no model of 'app': {string.Join("; ", fit.Errors)}"), fit);
    }

    // Per second: live capacity at the second's end and p95 of the requests that ended in it, the simulation's likewise.
    private static void WriteTimeline(string path, BackendSimulation predicted, List<(long End, int Latency)> completions,
        List<(DateTimeOffset Time, int Capacity)> samples, long first, long fromUtc)
    {
        using var output = new StreamWriter(path);
        output.WriteLine("second,live_active,predicted_active,live_p95,predicted_p95,live_completions");
        for (int i = 0; i < predicted.Timeline.Count; i++)
        {
            long end = fromUtc + ((i + 1) * 1000L);
            int live = samples.LastOrDefault(s => s.Time.ToUnixTimeMilliseconds() <= end).Capacity;
            var done = completions.Where(c => c.End >= first + (i * 1000L) && c.End < first + ((i + 1) * 1000L)).Select(c => c.Latency).Order().ToList();
            int? p95 = done.Count == 0 ? null : done[Math.Max(0, (int)Math.Ceiling(0.95 * done.Count) - 1)];
            SimulationSecond second = predicted.Timeline[i];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{i},{live},{second.Active},{p95},{second.P95Ms},{done.Count}"));
        }
    }

    internal static IEnumerable<byte[]> ReadLines(string path)
    {
        foreach (string line in File.ReadLines(path))
        {
            yield return Encoding.UTF8.GetBytes(line);
        }
    }

    // The integral of the sampled capacity (servers active or warming) over [from, to) in Unix milliseconds.
    internal static double Integrate(List<(DateTimeOffset Time, int Capacity)> samples, long from, long to)
    {
        double total = 0;
        for (int i = 0; i < samples.Count; i++)
        {
            long start = Math.Max(from, samples[i].Time.ToUnixTimeMilliseconds());
            long end = Math.Min(to, i + 1 < samples.Count ? samples[i + 1].Time.ToUnixTimeMilliseconds() : to);
            if (end > start)
            {
                total += samples[i].Capacity * (double)(end - start);
            }
        }

        return total / 1000;
    }

    internal static async Task SampleAsync(Autoscaler autoscaler, List<(DateTimeOffset Time, int Capacity)> samples, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        try
        {
            do
            {
                int capacity = autoscaler.Snapshot().Single().Servers.Count(s => s.Role is ServerRole.Active or ServerRole.Warming);
                lock (samples)
                {
                    samples.Add((DateTimeOffset.UtcNow, capacity));
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }
}
