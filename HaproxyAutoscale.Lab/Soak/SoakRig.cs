using System.Diagnostics;
using System.Globalization;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>
/// The soak: two real HAProxy instances in master-worker mode (backend <c>app</c>: s1 always up in this process,
/// s2 and s3 real processes started through the exec provider's scripts, one start in N failing; backends
/// <c>bulk0..3</c> for the synthetic volume), the daemon as its own process, a bounded real HTTP load that rises and
/// falls, and the synthetic httplog volume: in <see cref="SoakMode.Tcp"/> sent to each HAProxy's <c>log-forward</c>,
/// which puts it into the ring that also carries its request logs to the daemon's one <c>tcp@</c> source; in
/// <see cref="SoakMode.File"/> appended by the rig (with HAProxy's log datagrams) to a file logrotate rotates. On a
/// schedule: HAProxy reloads (SIGUSR2), admin sockets unreachable (the daemon reaches them through relays the rig
/// closes), daemon reloads (SIGHUP with a changed configuration). Samples the daemon every
/// <see cref="SoakOptions.SampleEvery"/>; at the end checks the accounting, the servers' states and what the
/// provider left running (<see cref="SoakChecks"/>).
/// </summary>
public sealed class SoakRig : IAsyncDisposable
{
    private readonly SoakOptions _options;
    private readonly TempDirectory _dir = new();
    private readonly ScriptedApps _apps = new();
    private readonly DemoAppServer _s1 = new("s1") { ColdStart = TimeSpan.Zero };
    private readonly List<Haproxy> _haproxies = [];
    private readonly List<TcpRelay> _relays = [];
    private TcpRelay? _ringRelay;
    private readonly List<LogForwardConnection> _forwards = [];
    private readonly Dictionary<(int Haproxy, string Worker), long> _requests = [];
    private readonly List<ProcessSample> _samples = [];
    private readonly HttpAnswerCounts _answers = new();
    private readonly Stopwatch _clock = new();
    private SyslogFile? _file;
    private SoakDaemon? _daemon;
    private int _daemonLogPort;
    private int _configVersion;

    private SoakRig(SoakOptions options) => _options = options;

    /// <summary>Runs a whole soak and writes its results (samples.csv, summary.txt, soak.svg, daemon.log) to the output directory.</summary>
    public static async Task<SoakResult> RunAsync(SoakOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.OutputDirectory);
        await using var rig = new SoakRig(options);
        return await rig.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    private string LogPath => _dir.File("haproxy.log");

    private string ConfigPath => _dir.File("autoscale.json");

    private async Task<SoakResult> RunAsync(CancellationToken cancellationToken)
    {
        _apps.SetMode(string.Create(CultureInfo.InvariantCulture, $"fail-every {_options.ProviderFailsOneIn}"));
        int[] appPorts = [Ports.FreeTcp(), Ports.FreeTcp()];
        _apps.SetPort("s2", appPorts[0]);
        _apps.SetPort("s3", appPorts[1]);
        _daemonLogPort = Ports.FreeTcp();
        if (_options.Mode == SoakMode.File)
        {
            _file = new SyslogFile(LogPath);
        }
        else
        {
            // Between the rings and the daemon: counts the frames HAProxy delivered, so a loss is placed before or after it.
            _ringRelay = new TcpRelay(string.Create(CultureInfo.InvariantCulture, $"ipv4@127.0.0.1:{_daemonLogPort}"), countFrames: true);
        }

        var frontends = new List<int>();
        for (int i = 0; i < 2; i++)
        {
            int frontend = Ports.FreeTcp(), forward = Ports.FreeTcp();
            Haproxy haproxy = await Haproxy.StartAsync(HaproxyFor(frontend, forward, appPorts), cancellationToken).ConfigureAwait(false);
            _haproxies.Add(haproxy);
            _relays.Add(new TcpRelay(haproxy.ReadySocket!));
            _forwards.Add(new LogForwardConnection(forward));
            frontends.Add(frontend);
        }

        await WriteConfigAsync().ConfigureAwait(false);
        _daemon = await SoakDaemon.StartAsync(_options.Daemon, ConfigPath, Path.Combine(_options.OutputDirectory, "daemon.log"), cancellationToken).ConfigureAwait(false);
        long probes = await ProbeFileAsync(cancellationToken).ConfigureAwait(false);
        _clock.Start();

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        SyslogLoad[] bulk = _options.Mode == SoakMode.Tcp
            ? [.. _forwards.Select(f => new SyslogLoad(_options.LinesPerSecond / 2, f.Send))]
            : [new SyslogLoad(_options.LinesPerSecond, _file!.Append)];
        Task[] loads =
        [
            .. bulk.Select(b => Task.Run(() => b.RunAsync(_options.Duration, _options.Mode == SoakMode.Tcp, stop.Token), CancellationToken.None)),
            .. frontends.Select(port => new HttpLoad(new Uri($"http://127.0.0.1:{port}/page"))
            {
                Clients = _options.HighClients,
                ActiveClients = () => HighPhase ? _options.HighClients : 1,
                Duration = _options.Duration,
                Counts = _answers,
            }.RunAsync(stop.Token)),
        ];

        var faults = new SoakFaults();
        await ScheduleAsync(bulk, faults, cancellationToken).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(loads).ConfigureAwait(false);
        foreach (TcpRelay relay in _relays)
        {
            relay.Open();
        }

        var checks = new SoakChecks(_options, _daemon, _haproxies, _apps);
        SoakResult result = await checks.RunAsync(
            new SoakSent(bulk.Sum(b => b.Written) + probes, bulk.Sum(b => b.Failed), _answers.Succeeded, _answers.Failed, await RequestsCountedAsync().ConfigureAwait(false), _file?.Lines, _file?.Datagrams) { RingFrames = () => _ringRelay?.Frames },
            faults, _samples, () => SampleAsync(bulk)).ConfigureAwait(false);
        await SoakReport.WriteAsync(_options, result, _samples).ConfigureAwait(false);
        return result;
    }

    // File mode: the daemon skips what the file held when it first opened it (tail -F), and it opens it a moment
    // after its start event; one line, appended until it is read, shows that it follows the file before the load starts.
    private async Task<long> ProbeFileAsync(CancellationToken cancellationToken)
    {
        if (_file is null)
        {
            return 0;
        }

        long probes = 0;
        await Poll.UntilAsync(
            async () =>
            {
                Dictionary<string, double>? metrics = await _daemon!.TryMetricsAsync().ConfigureAwait(false);
                if (metrics is not null && SoakDaemon.LineOutcomes(metrics).GetValueOrDefault("read") > 0)
                {
                    return true;
                }

                probes += _file.Append(1, SyslogLoad.Lines(1, octetCounted: false, new Random(1)));
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
                return false;
            },
            TimeSpan.FromSeconds(30), "the daemon to read the log file", cancellationToken).ConfigureAwait(false);
        return probes;
    }

    private bool HighPhase => _clock.Elapsed.Ticks / (_options.LoadCycle.Ticks / 2) % 2 == 0;

    private HaproxyConfig HaproxyFor(int frontend, int forward, int[] appPorts)
    {
        var config = new HaproxyConfig { StatsSocket = "{dir}/admin.sock", ClientTimeout = "5s", ServerTimeout = "5s" };
        config.Global.Add("master-worker");
        if (_options.Mode == SoakMode.Tcp)
        {
            // 8 MiB: a few seconds of this volume while the daemon is busy (1 MiB held 0.4 s).
            config.Logs.Add(HaproxyLogTarget.Tcp(_ringRelay!.Port, "log-proto octet-count", ringSize: 8 << 20));
            config.Sections.Add(string.Create(CultureInfo.InvariantCulture, $"log-forward bulk\n    bind 127.0.0.1:{forward}\n    timeout client 30s\n    log ring@ring0 local0\n"));
        }
        else
        {
            config.Logs.Add(HaproxyLogTarget.Udp(_file!.UdpPort));
        }

        config.Frontends.Add(new HaproxyFrontend("fe", frontend) { DefaultBackend = "app" });
        config.Backends.Add(new HaproxyBackend("app")
        {
            Servers = { new("s1", _s1.Port) { Weight = 10 }, new("s2", appPorts[0]) { Weight = 10, Disabled = true }, new("s3", appPorts[1]) { Weight = 10, Disabled = true } },
        });
        foreach (string name in SyslogLoad.Backends)
        {
            config.Backends.Add(new HaproxyBackend(name) { Servers = { new("b1", 1) { Weight = 10 }, new("b2", 2) { Weight = 10, Disabled = true } } });
        }

        return config;
    }

    // The daemon's configuration; each version changes the bulk backends' threshold, so a reload has something to apply.
    private Task WriteConfigAsync()
    {
        static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"\"{t.TotalMilliseconds:0}ms\"");
        string script(string name) => $"[\"bash\", \"{_apps.Directory}/{name}.sh\", \"{{server}}\"]";
        string source = _options.Mode == SoakMode.Tcp ? string.Create(CultureInfo.InvariantCulture, $"tcp@127.0.0.1:{_daemonLogPort}") : LogPath;
        string bulk = string.Join(",\n    ", SyslogLoad.Backends.Select(b => string.Create(CultureInfo.InvariantCulture,
            $$"""
            "{{b}}": { "policy": { "kind": "threshold", "thresholdMs": {{100_000 + (_configVersion % 2)}} }, "servers": { "b1": { "alwaysUp": true }, "b2": {} } }
            """)));
        string json = string.Create(CultureInfo.InvariantCulture, $$"""
            { "haproxy": { "endpoints": [{{string.Join(", ", _relays.Select(r => $"\"{r.Address}\""))}}] },
              "logs": { "source": "{{source}}" },
              "evaluationInterval": {{Ms(_options.EvaluationInterval)}}, "reconcileInterval": {{Ms(_options.ReconcileInterval)}},
              "warmup": { "failureBackoff": {{Ms(_options.KeepWarm)}} },
              "backends": {
                "app": { "policy": { "kind": "band", "upperMs": 60, "lowerMs": 30, "stabilization": {{Ms(_options.ScaleDownAfter)}},
                                     "scaleDownCooldown": {{Ms(_options.ScaleDownAfter)}}, "scaleUpCooldown": {{Ms(_options.ScaleDownAfter / 3)}} },
                         "settleTime": {{Ms(_options.EvaluationInterval * 4)}},
                         "servers": { "s1": { "alwaysUp": true }, "s2": {}, "s3": {} },
                         "provider": { "kind": "exec", "keepWarm": {{Ms(_options.KeepWarm)}}, "timeout": "20s",
                                       "start": {{script("start")}}, "stop": {{script("stop")}}, "status": {{script("status")}} } },
                {{bulk}}
              } }
            """);
        _configVersion++;
        return File.WriteAllTextAsync(ConfigPath, json);
    }

    private async Task ScheduleAsync(SyslogLoad[] bulk, SoakFaults faults, CancellationToken cancellationToken)
    {
        TimeSpan halfReload = _options.HaproxyReloadEvery / 2;
        TimeSpan nextSample = TimeSpan.Zero, nextReload = halfReload, nextOutage = _options.AdminOutageEvery, nextHup = _options.DaemonReloadEvery, nextRotate = _options.RotateEvery;
        TimeSpan? outageEnds = null;
        while (_clock.Elapsed < _options.Duration && !cancellationToken.IsCancellationRequested)
        {
            TimeSpan now = _clock.Elapsed;
            if (_daemon!.HasExited)
            {
                faults.Note(now, "the daemon exited");
                break;
            }

            if (now >= nextSample)
            {
                await SampleAsync(bulk).ConfigureAwait(false);
                nextSample += _options.SampleEvery;
            }

            if (now >= nextReload)
            {
                await ReloadHaproxyAsync(faults.HaproxyReloads % 2, faults, cancellationToken).ConfigureAwait(false);
                nextReload += halfReload;
            }

            if (outageEnds is null && now >= nextOutage)
            {
                _relays.ForEach(r => r.Close());
                outageEnds = now + _options.AdminOutage;
                nextOutage += _options.AdminOutageEvery;
                faults.AdminOutages++;
                faults.Injected(now, "admin sockets closed");
            }
            else if (outageEnds is { } ends && now >= ends)
            {
                _relays.ForEach(r => r.Open());
                outageEnds = null;
                faults.Injected(now, "admin sockets open");
            }

            if (now >= nextHup)
            {
                await WriteConfigAsync().ConfigureAwait(false);
                _daemon.Signal("HUP");
                faults.DaemonReloads++;
                faults.Injected(now, "daemon SIGHUP");
                nextHup += _options.DaemonReloadEvery;
            }

            if (_file is not null && now >= nextRotate)
            {
                await RotateAsync(faults, now).ConfigureAwait(false);
                nextRotate += _options.RotateEvery;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    // SIGUSR2 to the master: a new worker takes over; the ring's connection to the daemon is made again by it.
    private async Task ReloadHaproxyAsync(int index, SoakFaults faults, CancellationToken cancellationToken)
    {
        Haproxy haproxy = _haproxies[index];
        string? before = await TryCountRequestsAsync(index).ConfigureAwait(false);
        SoakDaemon.SendSignal("USR2", haproxy.Pid);
        faults.HaproxyReloads++;
        faults.Injected(_clock.Elapsed, $"haproxy {index} reload");
        try
        {
            await Poll.UntilAsync(async () => await TryCountRequestsAsync(index).ConfigureAwait(false) is { } worker && worker != before,
                TimeSpan.FromSeconds(10), "a new worker", cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            faults.Note(_clock.Elapsed, $"haproxy {index} did not show a new worker within 10 s");
        }

        _forwards[index].Reconnect(); // the log-forward listener is the new worker's; the old one exits once its connection ends
    }

    private async Task RotateAsync(SoakFaults faults, TimeSpan now)
    {
        bool copyTruncate = faults.Rotations % 2 == 1;
        string config = _dir.File(copyTruncate ? "logrotate-copytruncate.conf" : "logrotate-create.conf");
        await File.WriteAllTextAsync(config, SyslogFile.LogrotateConfig(LogPath, copyTruncate)).ConfigureAwait(false);
        using Process logrotate = Process.Start(new ProcessStartInfo("logrotate")
        {
            ArgumentList = { "-f", "-s", _dir.File("logrotate.state"), config },
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("logrotate did not start");
        string errors = await logrotate.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await logrotate.WaitForExitAsync().ConfigureAwait(false);
        faults.Rotations++;
        faults.Injected(now, copyTruncate ? "logrotate copytruncate" : "logrotate create");
        if (logrotate.ExitCode != 0)
        {
            faults.Note(now, $"logrotate exited with {logrotate.ExitCode}: {errors.Trim()}");
        }
    }

    private async Task SampleAsync(SyslogLoad[] bulk)
    {
        Dictionary<string, double>? metrics = await _daemon!.TryMetricsAsync().ConfigureAwait(false);
        double gcHeap = metrics is not null && metrics.TryGetValue("dotnet_total_memory_bytes", out double bytes) ? bytes / 1048576 : double.NaN;
        long read = metrics is null ? -1 : SoakDaemon.LineOutcomes(metrics).GetValueOrDefault("read");
        if (!_daemon.HasExited)
        {
            _samples.Add(ProcessSample.Read(_daemon.Pid, _clock.Elapsed.TotalSeconds, gcHeap, read, bulk.Sum(b => b.Written) + _answers.Succeeded + _answers.Failed));
            // Written as taken, so that a run cut short still has its samples.
            await File.AppendAllTextAsync(Path.Combine(_options.OutputDirectory, "samples.csv"),
                (_samples.Count == 1 ? ProcessSample.CsvHeader + "\n" : "") + _samples[^1].ToCsv(_samples.Count > 1 ? _samples[^2] : null) + "\n").ConfigureAwait(false);
        }

        for (int i = 0; i < _haproxies.Count; i++)
        {
            await TryCountRequestsAsync(i).ConfigureAwait(false);
        }
    }

    // Notes the frontend's req_tot of the current worker (counters start again at 0 in each new worker); returns the worker's PID.
    private async Task<string> CountRequestsAsync(int index)
    {
        await using IHaproxyControl control = HaproxyControl.Create(_haproxies[index].ReadySocket!);
        string info = await control.ExecuteAsync("show info").ConfigureAwait(false);
        string worker = info.Split('\n').FirstOrDefault(l => l.StartsWith("Pid:", StringComparison.Ordinal))?[4..].Trim() ?? "?";
        string[] stat = (await control.ExecuteAsync("show stat").ConfigureAwait(false)).Split('\n');
        int column = Array.IndexOf(stat[0].TrimStart('#', ' ').Split(','), "req_tot");
        string? row = stat.FirstOrDefault(l => l.StartsWith("fe,FRONTEND,", StringComparison.Ordinal));
        if (column >= 0 && row is not null && long.TryParse(row.Split(',')[column], CultureInfo.InvariantCulture, out long requests))
        {
            _requests[(index, worker)] = Math.Max(requests, _requests.GetValueOrDefault((index, worker)));
        }

        return worker;
    }

    // The socket is taken over by a new worker during a reload: no answer for a moment.
    private async Task<string?> TryCountRequestsAsync(int index)
    {
        try
        {
            return await CountRequestsAsync(index).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HaproxyControlException or IOException or System.Net.Sockets.SocketException)
        {
            return null;
        }
    }

    private async Task<long> RequestsCountedAsync()
    {
        for (int i = 0; i < _haproxies.Count; i++)
        {
            await TryCountRequestsAsync(i).ConfigureAwait(false);
        }

        return _requests.Values.Sum();
    }

    public async ValueTask DisposeAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync().ConfigureAwait(false);
        }

        _forwards.ForEach(f => f.Dispose());
        _relays.ForEach(r => r.Dispose());
        _ringRelay?.Dispose();
        foreach (Haproxy haproxy in _haproxies)
        {
            await haproxy.DisposeAsync().ConfigureAwait(false);
        }

        _file?.Dispose();
        _apps.Dispose();
        await _s1.DisposeAsync().ConfigureAwait(false);
        _dir.Dispose();
    }
}
