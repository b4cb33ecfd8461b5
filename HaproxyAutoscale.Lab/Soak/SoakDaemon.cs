using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>
/// The daemon under soak: <c>haproxy-autoscale run</c> as its own process (JSON log at debug level into a file, metrics
/// and admin endpoints on loopback), signalled by PID (SIGHUP reload, SIGTERM stop), and read from outside: /proc for
/// memory, descriptors, threads and CPU; the metrics endpoint for the GC heap and the log line counters; /status for
/// the servers' states.
/// </summary>
public sealed class SoakDaemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SoakDaemon(Process process, StreamWriter log, int metricsPort, int adminPort)
    {
        _process = process;
        _log = log;
        Metrics = new Uri($"http://127.0.0.1:{metricsPort}/metrics");
        Status = new Uri($"http://127.0.0.1:{adminPort}/status");
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public Uri Metrics { get; }

    public Uri Status { get; }

    /// <summary>Starts <c>run --config CONFIG</c> and waits until its metrics endpoint answers.</summary>
    public static async Task<SoakDaemon> StartAsync(IReadOnlyList<string> command, string config, string logPath, CancellationToken cancellationToken)
    {
        int metricsPort = Ports.FreeTcp(), adminPort = Ports.FreeTcp();
        // Through env --default-signal=HUP (coreutils 8.31+, exec'd: same PID): a SIGHUP the rig inherited as ignored
        // (nohup, some CI runners) would be ignored by the daemon too, and the reload fault would do nothing.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "--default-signal=HUP" }.Concat(command).Concat(["run", "--config", config, "--verbose", "--log-format", "json",
            "--metrics", $"127.0.0.1:{metricsPort}", "--admin", $"127.0.0.1:{adminPort}"]))
        {
            start.ArgumentList.Add(arg);
        }

        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start");
        var daemon = new SoakDaemon(process, log, metricsPort, adminPort);
        process.OutputDataReceived += (_, e) => daemon.Write(e.Data);
        process.ErrorDataReceived += (_, e) => daemon.Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // Not a connection to the metrics port before the daemon logged its start (event 1): .NET's managed
        // HttpListener crashes when a connection arrives while Start() runs (dotnet/corefx#35191, still in .NET 10).
        await Poll.UntilAsync(() => daemon._started.Task.IsCompleted || (process.HasExited ? throw new InvalidOperationException($"the daemon exited with {process.ExitCode}; see {logPath}") : false),
            TimeSpan.FromSeconds(60), "the daemon's start (event 1)", cancellationToken).ConfigureAwait(false);
        if (SignalIgnored(process.Id, 1))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("the daemon ignores SIGHUP although started through env --default-signal=HUP");
        }

        await Poll.UntilAsync(
            async () => process.HasExited ? throw new InvalidOperationException($"the daemon exited with {process.ExitCode}; see {logPath}") : (await daemon.TryMetricsAsync().ConfigureAwait(false)) is not null,
            TimeSpan.FromSeconds(60), "the daemon's metrics endpoint", cancellationToken).ConfigureAwait(false);
        return daemon;
    }

    /// <summary>Whether <paramref name="pid"/> ignores signal number <paramref name="signal"/> (the SigIgn mask of /proc/PID/status).</summary>
    public static bool SignalIgnored(int pid, int signal)
    {
        string? mask = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))?[7..].Trim();
        return mask is not null && (ulong.Parse(mask, NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (signal - 1))) != 0;
    }

    /// <summary>Sends a signal (<c>HUP</c>, <c>TERM</c>) by PID.</summary>
    public void Signal(string signal) => SendSignal(signal, Pid);

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/> with <c>kill</c>.</summary>
    public static void SendSignal(string signal, int pid)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        kill.WaitForExit();
    }

    /// <summary>SIGTERM, then its exit code (SIGKILL after 20 s: -1).</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            Signal("TERM");
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            return -1;
        }
    }

    /// <summary>The metrics endpoint's samples (<c>name{labels}</c> → value), or null when it does not answer.</summary>
    public async Task<Dictionary<string, double>?> TryMetricsAsync()
    {
        try
        {
            string text = await _http.GetStringAsync(Metrics).ConfigureAwait(false);
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (string line in text.Split('\n'))
            {
                int space = line.LastIndexOf(' ');
                if (line.Length > 0 && line[0] != '#' && space > 0
                    && double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                {
                    values[line[..space]] = value;
                }
            }

            return values;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary><c>log_lines</c> by outcome (read, unparsed, dropped, rejected, oversized, malformed).</summary>
    public static Dictionary<string, long> LineOutcomes(Dictionary<string, double> metrics)
    {
        var outcomes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach ((string name, double value) in metrics)
        {
            int at = name.IndexOf("outcome=\"", StringComparison.Ordinal);
            if (name.StartsWith("haproxyautoscale_log_lines", StringComparison.Ordinal) && at > 0)
            {
                outcomes[name[(at + 9)..name.IndexOf('"', at + 9)]] = (long)value;
            }
        }

        return outcomes;
    }

    /// <summary>Each server's lifecycle from /status: (backend, server) → lifecycle.</summary>
    public async Task<Dictionary<(string Backend, string Server), string>> LifecyclesAsync()
    {
        using JsonDocument status = JsonDocument.Parse(await _http.GetStringAsync(Status).ConfigureAwait(false));
        var lifecycles = new Dictionary<(string, string), string>();
        foreach (JsonElement backend in status.RootElement.GetProperty("backends").EnumerateArray())
        {
            foreach (JsonElement server in backend.GetProperty("servers").EnumerateArray())
            {
                lifecycles[(backend.GetProperty("backend").GetString()!, server.GetProperty("server").GetString()!)] = server.GetProperty("lifecycle").GetString()!;
            }
        }

        return lifecycles;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
        _http.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private void Write(string? line)
    {
        if (line is not null)
        {
            if (line.Contains("\"EventId\":1,", StringComparison.Ordinal))
            {
                _started.TrySetResult();
            }

            lock (_log)
            {
                _log.WriteLine(line);
            }
        }
    }
}
