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
/// Whole-daemon measurements against a real HAProxy (not timed tests): the reaction time from the breaching log
/// datagram to the enable command, and the daemon's CPU, RSS and drops under a bounded UDP log flood.
/// </summary>
public static class DaemonMeasurements
{
    /// <summary>An HAProxy whose backend <c>app</c> has s1 (up) and s2 (disabled), at addresses nothing listens on.</summary>
    internal static HaproxyConfig TwoServers()
    {
        var config = new HaproxyConfig { StatsSocket = "{dir}/admin.sock" };
        config.Backends.Add(new HaproxyBackend("app") { Servers = { new("s1", 1) { Weight = 10 }, new("s2", 2) { Weight = 10, Disabled = true } } });
        return config;
    }

    /// <summary>Median, p90 and max over <paramref name="trials"/> of: slow datagram sent → first command for s2 sent.</summary>
    public static async Task ReactionAsync(int trials)
    {
        await using Haproxy haproxy = await Haproxy.StartAsync(TwoServers());
        var samples = new List<double>();
        for (int trial = 0; trial < trials; trial++)
        {
            await using IHaproxyControl real = HaproxyControl.Create(haproxy.ReadySocket!);
            await real.DisableServerAsync("app", "s2");
            await using var recording = new RecordingControl(HaproxyControl.Create(haproxy.ReadySocket!));
            var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.FromMilliseconds(1), ReconcileInterval = TimeSpan.FromHours(1) };
            options.Haproxy.Endpoints.Add(haproxy.ReadySocket!);
            var backend = new BackendOptions { Name = "app", Policy = { Kind = "threshold" }, SettleTime = TimeSpan.Zero };
            backend.Window.Size = 1;
            backend.Policy.Settings["thresholdMs"] = "100";
            backend.Policy.Settings["breaches"] = "1";
            backend.Policy.Settings["idleScaleDown"] = "1h";
            backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
            backend.Servers.Add(new ServerOptions { Name = "s2" });
            options.Backends.Add(backend);
            await using ILogSource source = LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0));
            var endPoint = (IPEndPoint)((DatagramLogSource)source).LocalEndPoint;
            await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(source).UseControl(recording).Build();
            using var stop = new CancellationTokenSource();
            Task running = autoscaler.RunAsync(stop.Token);
            while (autoscaler.Snapshot()[0].Servers.Any(s => s.Name == "s2" && s.Role != ServerRole.Parked))
            {
                await Task.Delay(5);
            }

            await Task.Delay(50); // the read loop is running
            using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            byte[] slow = Encoding.ASCII.GetBytes($"<134>Nov 26 15:00:00 haproxy[1]: 127.0.0.1:1 [{DateTime.Now:dd/MMM/yyyy:HH:mm:ss.fff}] fe app/s1 0/0/0/900/900 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"");
            long sent = Stopwatch.GetTimestamp();
            sender.SendTo(slow, endPoint);
            while (recording.FirstCommandAt == 0)
            {
                await Task.Delay(1);
            }

            samples.Add(Stopwatch.GetElapsedTime(sent, recording.FirstCommandAt).TotalMilliseconds);
            await stop.CancelAsync();
            await running;
        }

        samples.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reaction (slow datagram sent -> enable command sent, evaluation every 1 ms, {trials} trials): median {samples[samples.Count / 2]:0.00} ms, p90 {samples[(int)(samples.Count * 0.9)]:0.00} ms, max {samples[^1]:0.00} ms"));
    }

    /// <summary>Runs <c>haproxy-autoscale run</c> and floods it with <paramref name="rate"/> log datagrams/s for <paramref name="seconds"/> s.</summary>
    public static async Task LoadAsync(string cliDll, int rate, int seconds)
    {
        await using Haproxy haproxy = await Haproxy.StartAsync(TwoServers());
        int port = FreeUdpPort();
        string config = Path.Combine(haproxy.Directory, "config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "haproxy": { "endpoints": ["{{haproxy.ReadySocket!}}"] }, "logs": { "source": "udp@127.0.0.1:{{port}}" },
              "backends": { "app": { "policy": { "kind": "threshold", "thresholdMs": 100000 },
                                     "servers": { "s1": { "alwaysUp": true }, "s2": {} } } } }
            """);
        using var daemon = Process.Start(new ProcessStartInfo("dotnet") { ArgumentList = { cliDll, "run", "--config", config }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var log = new StringBuilder();
        daemon.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        daemon.BeginOutputReadLine();
        while (!Contains(log, "adopted as parked"))
        {
            await Task.Delay(20);
        }

        await Task.Delay(1000); // past start-up and JIT
        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var target = new IPEndPoint(IPAddress.Loopback, port);
        byte[] line = Encoding.ASCII.GetBytes("<134>Nov 26 15:00:00 haproxy[1]: 127.0.0.1:40000 [26/Nov/2026:15:00:00.000] fe_http app/s1 0/0/0/12/13 200 512 - - ---- 1/1/0/0/0 0/0 {Mozilla/5.0 (X11; Linux x86_64)} \"GET /index.html HTTP/1.1\"");
        (double cpuBefore, _) = CpuAndRss(daemon.Id);
        var clock = Stopwatch.StartNew();
        long total = (long)rate * seconds;
        for (long i = 0; i < total; i++)
        {
            // Paced in 1 ms steps so the rate is even, bounded by count and by time.
            while (clock.Elapsed.TotalSeconds * rate < i)
            {
                Thread.SpinWait(50);
            }

            sender.SendTo(line, target);
            if (clock.Elapsed.TotalSeconds > seconds * 2)
            {
                break;
            }
        }

        double elapsed = clock.Elapsed.TotalSeconds;
        await Task.Delay(500);
        (double cpuAfter, long rssKb) = CpuAndRss(daemon.Id);
        long kernelDrops = KernelUdpDrops(port);
        Process.Start("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        await daemon.WaitForExitAsync();
        string stopped = log.ToString().Split('\n').LastOrDefault(l => l.Contains("Stopped after reading", StringComparison.Ordinal)) ?? "(no stop line)";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rate} lines/s for {elapsed:0.0} s: CPU {(cpuAfter - cpuBefore) / (elapsed + 0.5) * 100:0.0} % of one core, RSS {rssKb / 1024.0:0.0} MB, kernel drops {kernelDrops}, daemon: {stopped.Trim()[(stopped.IndexOf("Stopped", StringComparison.Ordinal))..]}"));
    }

    /// <summary>
    /// Runs <c>haproxy-autoscale run</c> with a TCP log source and sends it <paramref name="lines"/> octet-counted lines
    /// over <paramref name="connections"/> connections as fast as it reads them; reports lines per CPU-second of the
    /// daemon (the rate one core sustains), the wall-clock rate, and how many lines it did not read (lost).
    /// </summary>
    public static async Task LoadTcpAsync(string cliDll, int lines, int connections)
    {
        await using Haproxy haproxy = await Haproxy.StartAsync(TwoServers());
        int port = FreeTcpPort(), metricsPort = FreeTcpPort();
        string config = Path.Combine(haproxy.Directory, "config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "haproxy": { "endpoints": ["{{haproxy.ReadySocket!}}"] }, "logs": { "source": "tcp@127.0.0.1:{{port}}" },
              "backends": { "app": { "policy": { "kind": "threshold", "thresholdMs": 100000 },
                                     "servers": { "s1": { "alwaysUp": true }, "s2": {} } } } }
            """);
        using var daemon = Process.Start(new ProcessStartInfo("dotnet") { ArgumentList = { cliDll, "run", "--config", config, "--metrics", $"127.0.0.1:{metricsPort}" }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var log = new StringBuilder();
        daemon.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        while (!Contains(log, "adopted as parked"))
        {
            await Task.Delay(20);
        }

        using var http = new HttpClient();
        var metrics = new Uri($"http://127.0.0.1:{metricsPort}/metrics");
        // Warm-up: 200,000 lines through one connection (JIT, tiering), not measured.
        await SendTcpAsync(port, 200_000, 1);
        while (await ReadLinesAsync(http, metrics) < 200_000)
        {
            await Task.Delay(50);
        }

        long before = await ReadLinesAsync(http, metrics);
        (double cpuBefore, _) = CpuAndRss(daemon.Id);
        var clock = Stopwatch.StartNew();
        await SendTcpAsync(port, lines, connections);
        long read;
        while ((read = await ReadLinesAsync(http, metrics) - before) < lines && clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            await Task.Delay(20);
        }

        double elapsed = clock.Elapsed.TotalSeconds;
        (double cpuAfter, long rssKb) = CpuAndRss(daemon.Id);
        Process.Start("kill", ["-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        await daemon.WaitForExitAsync();
        double cpu = cpuAfter - cpuBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tcp, {lines} lines over {connections} connection(s): {read / cpu:N0} lines per CPU-second of the daemon ({cpu:0.00} s CPU), {read / elapsed:N0} lines/s wall ({elapsed:0.00} s), lost {lines - read}, RSS {rssKb / 1024.0:0.0} MB"));
    }

    // Each connection sends its share of the lines from one prebuilt buffer (octet counting, as an HAProxy ring does).
    private static async Task SendTcpAsync(int port, int lines, int connections)
    {
        string line = "<134>1 2026-11-26T15:00:00.000000+00:00 - haproxy 1 - - 127.0.0.1:40000 [26/Nov/2026:15:00:00.000] fe_http app/s1 0/0/0/12/13 200 512 - - ---- 1/1/0/0/0 0/0 {Mozilla/5.0 (X11; Linux x86_64)} \"GET /index.html HTTP/1.1\"";
        byte[] frame = Encoding.ASCII.GetBytes($"{line.Length} {line}");
        const int PerBlock = 1000;
        byte[] block = new byte[frame.Length * PerBlock];
        for (int i = 0; i < PerBlock; i++)
        {
            frame.CopyTo(block, i * frame.Length);
        }

        await Task.WhenAll(Enumerable.Range(0, connections).Select(c => Task.Run(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
            int share = (lines / connections) + (c < lines % connections ? 1 : 0);
            for (int sent = 0; sent < share; sent += PerBlock)
            {
                int count = Math.Min(PerBlock, share - sent);
                socket.Send(block.AsSpan(0, count * frame.Length));
            }

            socket.Shutdown(SocketShutdown.Send);
        })));
    }

    // haproxyautoscale_log_lines…{outcome="read"} from the daemon's Prometheus endpoint.
    internal static async Task<long> ReadLinesAsync(HttpClient http, Uri metrics)
    {
        string text = await http.GetStringAsync(metrics);
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith("haproxyautoscale_log_lines", StringComparison.Ordinal) && l.Contains("outcome=\"read\"", StringComparison.Ordinal));
        return line is null ? 0 : (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }

    internal static int FreeTcpPort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    private static bool Contains(StringBuilder log, string text)
    {
        lock (log)
        {
            return log.ToString().Contains(text, StringComparison.Ordinal);
        }
    }

    // utime + stime (clock ticks, 100/s on Linux) and VmRSS of a process.
    internal static (double CpuSeconds, long RssKb) CpuAndRss(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        string rss = File.ReadAllLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (cpu, long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture));
    }

    // The "drops" column of /proc/net/udp for the local port.
    private static long KernelUdpDrops(int port)
    {
        string hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (string line in File.ReadAllLines("/proc/net/udp").Skip(1))
        {
            string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f[1].EndsWith(":" + hexPort, StringComparison.Ordinal))
            {
                return long.Parse(f[^1], CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    // Passes commands through to HAProxy and notes when the first one naming s2 was sent.
    private sealed class RecordingControl(IHaproxyControl inner) : IHaproxyControl
    {
        public long FirstCommandAt { get; private set; }

        public string Endpoint => inner.Endpoint;

        public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
        {
            if (FirstCommandAt == 0 && command.Contains("app/s2", StringComparison.Ordinal) && !command.StartsWith("show", StringComparison.Ordinal))
            {
                FirstCommandAt = Stopwatch.GetTimestamp();
            }

            return inner.ExecuteAsync(command, cancellationToken);
        }

        public Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default) =>
            inner.ExecuteBatchAsync(commands, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
