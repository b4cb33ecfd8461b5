using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Lab;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// One daemon, many backends (issue 22): a real HAProxy with <c>B</c> backends of 8 servers (s1 up, s2–s8 parked,
/// at addresses nothing listens on, no checks), the daemon (<c>haproxy-autoscale run</c>) with a <c>tcp@</c> source fed
/// httplog lines whose backends follow a Zipf law (a few busy, most nearly idle), at a paced rate. Reports the
/// daemon's CPU per 100,000 lines/s, RSS, lines read, the evaluation pass's p50 and p99 (its histogram), and the
/// time from a step of slow requests on an idle backend (the last three, one after the other: the Zipf lines go to
/// the others) to its s2 running in HAProxy, their median. The measurement starts after <c>warmup</c> seconds of lines
/// (5 by default: the daemon's first seconds, while every backend's first model is fitted; a few minutes: the steady state).
/// </summary>
public static partial class ScaleMeasurements
{
    private const int ServersPerBackend = 8;
    private const int Steps = 3; // step trials per run, each on a backend of its own that got no line before

    public static async Task RunAsync(string cliDll, int backends, int rate, int seconds, int warmup = 5)
    {
        var clock = Stopwatch.StartNew();
        using var directory = new TempDirectory();
        await using Haproxy haproxy = await StartHaproxyAsync(backends, directory);
        string adminSocket = directory.File("admin.sock");
        double haproxyStart = clock.Elapsed.TotalSeconds;
        int port = DaemonMeasurements.FreeTcpPort(), metricsPort = DaemonMeasurements.FreeTcpPort();
        string configPath = Path.Combine(haproxy.Directory, "config.json");
        await File.WriteAllTextAsync(configPath, DaemonConfig(adminSocket, port, backends));
        // A .dll is the framework-dependent build, run with dotnet; anything else is the Native AOT binary (what the tool
        // and Debian packages run on linux-x64).
        ProcessStartInfo start = cliDll.EndsWith(".dll", StringComparison.Ordinal) ? new("dotnet") { ArgumentList = { cliDll } } : new(cliDll);
        foreach (string argument in (string[])["run", "--config", configPath, "--metrics", $"127.0.0.1:{metricsPort}"])
        {
            start.ArgumentList.Add(argument);
        }

        start.RedirectStandardOutput = start.RedirectStandardError = true;
        using var daemon = Process.Start(start)!;
        daemon.OutputDataReceived += (_, e) => { if (e.Data is { } line && line.Contains(Name(backends - 1), StringComparison.Ordinal)) { Console.Error.WriteLine(line); } };
        daemon.ErrorDataReceived += (_, e) => { if (e.Data is { } line) { Console.Error.WriteLine(line); } };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient();
            var metrics = new Uri($"http://127.0.0.1:{metricsPort}/metrics");
            clock.Restart();
            while (!await MetricsAnswerAsync(http, metrics) && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(100);
            }

            double daemonStart = clock.Elapsed.TotalSeconds;
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            byte[][] blocks = ZipfBlocks(backends - Steps, blockLines: 1000, count: 64); // the last backends stay idle for the steps

            // Warm-up (JIT, tiering, every backend's first lines), at the rate, not measured.
            await SendPacedAsync(socket, blocks, rate, TimeSpan.FromSeconds(warmup));
            string scrapeBefore = await http.GetStringAsync(metrics);
            (double cpuBefore, _) = DaemonMeasurements.CpuAndRss(daemon.Id);
            clock.Restart();
            long sent = await SendPacedAsync(socket, blocks, rate, TimeSpan.FromSeconds(seconds));
            double elapsed = clock.Elapsed.TotalSeconds;
            (double cpuAfter, long rssKb) = DaemonMeasurements.CpuAndRss(daemon.Id);
            string scrapeAfter = await http.GetStringAsync(metrics);
            long before = LinesRead(scrapeBefore), read = 0;
            var drain = Stopwatch.StartNew();
            while ((read = await DaemonMeasurements.ReadLinesAsync(http, metrics) - before) < sent && drain.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            // Steps on idle backends, one after the other: in-flight far above one server's target, then time to s2 enabled.
            var steps = new List<double>();
            for (int k = 1; k <= Steps; k++)
            {
                steps.Add(await StepAsync(socket, adminSocket, Name(backends - k)));
            }

            string scrapes = int.TryParse(Environment.GetEnvironmentVariable("SCRAPES"), CultureInfo.InvariantCulture, out int count) && count > 0
                ? await ScrapeRssAsync(socket, blocks, rate, http, metrics, daemon.Id, count)
                : "";
            double cores = (cpuAfter - cpuBefore) / elapsed;
            (double p50, double p99, long passes) = PassQuantiles(scrapeBefore, scrapeAfter);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{backends} backends ({backends * ServersPerBackend} servers), {sent / elapsed:N0} lines/s for {elapsed:0.0} s: daemon {cores:0.000} cores ({cores / (sent / elapsed / 100_000.0):0.000} per 100,000 lines/s), RSS {rssKb / 1024.0:0.0} MB, read {read:N0} of {sent:N0}, evaluation pass p50 {p50 * 1000:0.0} ms p99 {p99 * 1000:0.0} ms ({passes} passes), step to s2 enabled median {steps.Order().ElementAt(Steps / 2):0.00} s ({string.Join(" ", steps.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)))}) (HAProxy start {haproxyStart:0.0} s, daemon ready {daemonStart:0.0} s, warm-up {warmup} s){scrapes}"));
        }
        finally
        {
            if (!daemon.HasExited)
            {
                Process.Start("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            }

            await daemon.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>
    /// The rig's HAProxy: <paramref name="backends"/> backends of 8 servers (s1 up, s2–s8 disabled), its admin socket
    /// <c>admin.sock</c> in <paramref name="directory"/>; returns once the socket answers (10,000 backends take HAProxy
    /// longer to start than the Lab's 10 s wait on a loaded machine: waited for here, up to 2 minutes).
    /// </summary>
    internal static async Task<Haproxy> StartHaproxyAsync(int backends, TempDirectory directory)
    {
        var config = new HaproxyConfig { StatsSocket = "{dir}/admin.sock" };
        config.Global.Add("maxconn 1000");
        for (int b = 0; b < backends; b++)
        {
            var backend = new HaproxyBackend(Name(b));
            for (int s = 1; s <= ServersPerBackend; s++)
            {
                backend.Servers.Add(new HaproxyServer($"s{s}", 1) { Weight = 10, Disabled = s > 1 });
            }

            config.Backends.Add(backend);
        }

        var clock = Stopwatch.StartNew();
        Haproxy haproxy = await Haproxy.StartAsync(config.ToString(), directory);
        while (!Haproxy.Answers(directory.File("admin.sock")) && clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            await Task.Delay(100);
        }

        return haproxy;
    }

    internal static string Name(int backend) => $"be{backend:D5}";

    private static long LinesRead(string scrape) =>
        scrape.Split('\n').FirstOrDefault(l => l.StartsWith("haproxyautoscale_log_lines", StringComparison.Ordinal) && l.Contains("outcome=\"read\"", StringComparison.Ordinal)) is { } line
            ? (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)
            : 0;

    // p50 and p99 of the evaluation passes between two scrapes, interpolated within the histogram's buckets (as
    // Prometheus' histogram_quantile does); NaN when the daemon has no such histogram (before it was added).
    private static (double P50, double P99, long Count) PassQuantiles(string before, string after)
    {
        List<(double Le, long Count)> b = Buckets(before), a = Buckets(after);
        if (a.Count == 0)
        {
            return (double.NaN, double.NaN, 0);
        }

        List<(double Le, long Count)> delta = [.. a.Select((x, i) => (x.Le, x.Count - (i < b.Count ? b[i].Count : 0)))];
        long total = delta[^1].Count;
        return (Quantile(delta, 0.5), Quantile(delta, 0.99), total);
    }

    private static double Quantile(List<(double Le, long Count)> cumulative, double q)
    {
        double rank = q * cumulative[^1].Count;
        for (int i = 0; i < cumulative.Count; i++)
        {
            if (cumulative[i].Count >= rank)
            {
                (double lower, long below) = i == 0 ? (0, 0L) : cumulative[i - 1];
                double upper = double.IsInfinity(cumulative[i].Le) ? lower : cumulative[i].Le;
                long inBucket = cumulative[i].Count - below;
                return inBucket == 0 ? upper : lower + ((upper - lower) * (rank - below) / inBucket);
            }
        }

        return double.NaN;
    }

    private static List<(double Le, long Count)> Buckets(string scrape) =>
        [.. scrape.Split('\n').Where(l => l.StartsWith("haproxyautoscale_evaluation_pass_seconds_bucket", StringComparison.Ordinal))
            .Select(l => (Le: l[(l.IndexOf("le=\"", StringComparison.Ordinal) + 4)..l.IndexOf("\"}", StringComparison.Ordinal)], Count: l[(l.LastIndexOf(' ') + 1)..]))
            .Select(x => (x.Le == "+Inf" ? double.PositiveInfinity : double.Parse(x.Le, CultureInfo.InvariantCulture), (long)double.Parse(x.Count, CultureInfo.InvariantCulture)))
            .OrderBy(x => x.Item1)];

    // Every backend: s1 always up, s2–s8 parked; the default policy (concurrency).
    internal static string DaemonConfig(string socket, int port, int backends, string backendExtra = "")
    {
        var json = new StringBuilder($$"""{ "haproxy": { "endpoints": ["{{socket}}"] }, "logs": { "source": "tcp@127.0.0.1:{{port}}" }, "backends": {""");
        for (int b = 0; b < backends; b++)
        {
            json.Append(b == 0 ? "" : ",").Append('"').Append(Name(b)).Append("\": { \"servers\": { \"s1\": { \"alwaysUp\": true }");
            for (int s = 2; s <= ServersPerBackend; s++)
            {
                json.Append(CultureInfo.InvariantCulture, $", \"s{s}\": {{}}");
            }

            json.Append(" }").Append(backendExtra).Append(" }");
        }

        return json.Append("} }").ToString();
    }

    // Octet-counted RFC 5424 lines (an HAProxy ring's format), backends drawn from Zipf(1) over the first ones.
    private static byte[][] ZipfBlocks(int backends, int blockLines, int count)
    {
        int[] draws = ZipfDraws(backends, blockLines * count);
        var blocks = new byte[count][];
        for (int k = 0; k < count; k++)
        {
            var block = new MemoryStream();
            for (int i = 0; i < blockLines; i++)
            {
                string line = Line(draws[(k * blockLines) + i]);
                block.Write(Encoding.ASCII.GetBytes($"{line.Length} {line}"));
            }

            blocks[k] = block.ToArray();
        }

        return blocks;
    }

    /// <summary>
    /// An autoscaler over the rig's configuration for <paramref name="backends"/> backends, in process, for the
    /// benchmarks: dry run, no log source, <paramref name="clock"/> set to a fixed day (they move it themselves).
    /// </summary>
    internal static Autoscaler DryRunAutoscaler(int backends, ManualClock clock, bool provider = false)
    {
        clock.Set(new DateTimeOffset(2026, 12, 6, 22, 0, 0, TimeSpan.Zero));
        string extra = provider ? """, "provider": { "kind": "exec", "start": ["true"], "stop": ["true"] }""" : "";
        AutoscaleOptions options = AutoscaleConfiguration.Parse(DaemonConfig("/nonexistent/admin.sock", 1, backends, extra)).Options!;
        return new AutoscalerBuilder(options).UseTimeProvider(clock).UseLogSource(new StreamLogSource(Stream.Null, "-", ownsStream: false, 4096)).DryRun().Build();
    }

    /// <summary><paramref name="count"/> backend indexes drawn by Zipf(1) over <paramref name="backends"/> (a few busy, most nearly idle), the same each run.</summary>
    internal static int[] ZipfDraws(int backends, int count)
    {
        var random = new Random(22);
        double[] cumulative = new double[backends];
        double sum = 0;
        for (int b = 0; b < backends; b++)
        {
            cumulative[b] = sum += 1.0 / (b + 1);
        }

        int[] draws = new int[count];
        for (int i = 0; i < count; i++)
        {
            int b = Array.BinarySearch(cumulative, random.NextDouble() * sum);
            draws[i] = b < 0 ? Math.Min(~b, backends - 1) : b;
        }

        return draws;
    }

    /// <summary>The rig's httplog line (RFC 5424, no octet count) for a 13 ms request to the backend's s1.</summary>
    internal static string Line(int backend) =>
        $"<134>1 2026-11-26T15:00:00.000000+00:00 - haproxy 1 - - 127.0.0.1:40000 [26/Nov/2026:15:00:00.000] fe_http {Name(backend)}/s1 0/0/0/12/13 200 512 - - ---- 1/1/0/0/0 0/0 \"GET /index.html HTTP/1.1\"";

    // Sends blocks of 1,000 lines paced to the rate (in 10 ms steps), bounded by the duration; returns the lines sent.
    private static async Task<long> SendPacedAsync(Socket socket, byte[][] blocks, int rate, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        long sent = 0;
        int next = 0;
        while (clock.Elapsed < duration)
        {
            long due = (long)(clock.Elapsed.TotalSeconds * rate);
            while (sent + 1000 <= due)
            {
                await socket.SendAsync(blocks[next++ % blocks.Length]);
                sent += 1000;
            }

            await Task.Delay(10);
        }

        return sent;
    }

    // 200 lines of 2 s requests on one backend (in-flight 400 over a 1 s interval), then polls HAProxy until its s2 is ready.
    private static async Task<double> StepAsync(Socket socket, string adminSocket, string backend)
    {
        await using IHaproxyControl control = HaproxyControl.Create(adminSocket);
        var block = new MemoryStream();
        for (int i = 0; i < 200; i++)
        {
            string line = $"<134>1 2026-11-26T15:00:00.000000+00:00 - haproxy 1 - - 127.0.0.1:40000 [26/Nov/2026:15:00:00.000] fe_http {backend}/s1 0/0/0/2000/2000 200 512 - - ---- 1/1/0/0/0 0/0 \"GET /slow HTTP/1.1\"";
            block.Write(Encoding.ASCII.GetBytes($"{line.Length} {line}"));
        }

        var clock = Stopwatch.StartNew();
        await socket.SendAsync(block.ToArray());
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            string state = await control.ExecuteAsync($"show servers state {backend}");
            // srv_op_state 2: running (srv_admin_state keeps the configuration's "disabled" bit, 0x04, once enabled).
            if (state.Split('\n').Any(l => l.Split(' ') is [_, _, _, "s2", _, "2", ..]))
            {
                return clock.Elapsed.TotalSeconds;
            }

            await Task.Delay(20);
        }

        return double.NaN;
    }

    private static async Task<bool> MetricsAnswerAsync(HttpClient http, Uri metrics)
    {
        try
        {
            return (await http.GetStringAsync(metrics)).Contains("haproxyautoscale_", StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}
