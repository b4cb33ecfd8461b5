using System.CommandLine;
using System.Net.Sockets;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Cli.Systemd;
using HaproxyAutoscale.Etcd;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// <c>run --config FILE</c>: the daemon. Ctrl-C or SIGTERM stop it cleanly (exit 0); SIGHUP (and <c>POST /reload</c> on
/// the admin endpoint) reads FILE again and applies it without a restart. Started by systemd as <c>Type=notify</c>
/// (NOTIFY_SOCKET set), it reports READY, STOPPING and watchdog pings (<see cref="SystemdService"/>).
/// </summary>
internal static class RunCommand
{
    public static Command Create(CliConsole console)
    {
        var config = new Option<string>("--config") { Description = "The autoscaler configuration (JSON).", Required = true };
        var dryRun = new Option<bool>("--dry-run") { Description = "Decide and log, but send no command that changes HAProxy." };
        var logFormat = new Option<string>("--log-format") { Description = "Log output: text or json.", DefaultValueFactory = _ => "text" };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var metrics = new Option<string?>("--metrics") { Description = "Serve metrics in Prometheus text format at http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 or [::1]:9464 (0.0.0.0:9464: every IPv4 interface; [::]:9464: every interface)." };
        var admin = new Option<string?>("--admin") { Description = $"Serve the admin endpoint (status, pause, resume) on a loopback HOST:PORT or unix:/path, e.g. {Admin.AdminAddress.Default}." };
        var stateDirectory = new Option<string?>("--state-directory")
        {
            Description = "Keep what is learned (server models, demand history) in this directory across restarts; overrides the configuration's stateDirectory. Created if missing.",
        };
        var command = new Command("run", "Run the autoscaler daemon.") { config, dryRun, logFormat, metrics, admin, stateDirectory };
        command.SetAction((parseResult, cancellationToken) => RunAsync(
            console, parseResult.GetRequiredValue(config), parseResult.GetValue(dryRun), parseResult.GetValue(logFormat) ?? "text",
            parseResult.GetValue(metrics), parseResult.GetValue(admin), parseResult.GetValue(stateDirectory), parseResult.GetValue(CliConsole.VerboseOption), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, string configPath, bool dryRun, string logFormat, string? metricsAddress, string? adminText, string? stateDirectory, bool verbose, CancellationToken cancellationToken)
    {
        _ = MemoryTrace.StartFromEnvironment(console.Error, cancellationToken); // a diagnostic, off unless asked for
        (AutoscaleOptions? options, int exitCode) = await ConfigFile.LoadAsync(console, configPath, cancellationToken).ConfigureAwait(false);
        if (options is null)
        {
            return exitCode;
        }

        if (stateDirectory is not null)
        {
            // A relative path is the caller's (a shell's working directory); the option itself must be absolute.
            options.StateDirectory = stateDirectory = Path.GetFullPath(stateDirectory);
        }

        if (options.Haproxy.Endpoints.Count == 0)
        {
            return console.Fail($"{configPath}: haproxy.endpoints: at least one stats socket is needed to run", ExitCodes.Usage);
        }

        Admin.AdminAddress? adminAddress = null;
        if (adminText is not null && !Admin.AdminAddress.TryParse(adminText, out adminAddress, out string? adminError))
        {
            return console.Fail(adminError!, ExitCodes.Usage);
        }

        string? metricsError = null;
        await using MetricsEndpoint? metrics = metricsAddress is null ? null : MetricsEndpoint.TryStart(metricsAddress, out metricsError);
        if (metricsError is not null)
        {
            return console.Fail(metricsError, ExitCodes.Usage);
        }

        using ILoggerFactory loggers = CreateLoggers(logFormat, verbose);
        Autoscaler autoscaler;
        try
        {
            autoscaler = new AutoscalerBuilder(options).UseLoggerFactory(loggers).UseEtcdLeaderElection().DryRun(dryRun).Build();
        }
        catch (SocketException e)
        {
            return console.Fail($"cannot listen for logs on {options.Logs.Source}: {e.Message}");
        }

        // The autoscaler holds its own copy of the options: the loaded one is let go (~11 MB at 10,000 backends).
        (string logSource, int backendCount, TimeSpan evaluationInterval) = (options.Logs.Source, options.Backends.Count, options.EvaluationInterval);
        options = null;
        await using (autoscaler.ConfigureAwait(false))
        {
            SystemdService? systemdService = null; // set once started: a reload then tells systemd it is reloading
            Task<ReloadResult> Reload(CancellationToken token) => systemdService is { } service
                ? service.ReloadingAsync(() => ConfigReload.FromFileAsync(autoscaler, configPath, stateDirectory, token))
                : ConfigReload.FromFileAsync(autoscaler, configPath, stateDirectory, token);

            Admin.AdminEndpoint? adminEndpoint;
            try
            {
                adminEndpoint = adminAddress is null ? null
                    : Admin.AdminEndpoint.Start(adminAddress, autoscaler, reload: Reload);
            }
            catch (Exception e) when (e is SocketException or IOException or UnauthorizedAccessException)
            {
                return console.Fail($"--admin: cannot listen on {adminAddress}: {e.Message}");
            }

            using SystemdNotifier? systemd = SystemdFromEnvironment();
            using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            systemdService = systemd is null ? null : SystemdService.Start(
                systemd, autoscaler, $"Autoscaling {backendCount} backend(s) from {logSource}", evaluationInterval,
                TimeProvider.System, loggers.CreateLogger("HaproxyAutoscale.Systemd"), shutdown.Token);
            using IDisposable? hangup = ConfigReload.OnHangup(() => Reload(cancellationToken), console.Error);
            // The start builds every backend and reads HAProxy's whole state once: that peak (~240 MB at 10,000
            // backends, twice what the run keeps) stays committed unless it is given back once, here.
            _ = autoscaler.Started.ContinueWith(_ => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            Task youngCollections = YoungCollections.RunAsync(() => autoscaler.LastEvaluation, shutdown.Token);
            try
            {
                await autoscaler.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
            {
                return console.Fail($"reading logs from {logSource} failed: {e.Message}");
            }
            finally
            {
                await shutdown.CancelAsync().ConfigureAwait(false); // STOPPING=1 (sent at once on SIGTERM: the token is linked)
                await (systemdService?.Running ?? Task.CompletedTask).ConfigureAwait(false);
                await youngCollections.ConfigureAwait(false);
                if (adminEndpoint is not null)
                {
                    await adminEndpoint.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        return ExitCodes.Success;
    }

    // Type=notify under systemd; the variables are then unset so that child processes (a process provider's servers)
    // cannot notify in the daemon's name.
    private static SystemdNotifier? SystemdFromEnvironment()
    {
        SystemdNotifier? notifier = SystemdNotifier.FromEnvironment(Environment.GetEnvironmentVariable, Environment.ProcessId);
        foreach (string variable in SystemdNotifier.Variables)
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        return notifier;
    }

    /// <summary>
    /// Text or JSON lines on standard output. Under systemd (JOURNAL_STREAM set: stdout goes to journald) each line
    /// starts with its syslog priority, which journald keeps as the entry's level; text lines then carry no
    /// timestamp of their own (journald stamps them).
    /// </summary>
    internal static ILoggerFactory CreateLoggers(string format, bool verbose) => LoggerFactory.Create(logging =>
    {
        logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
        bool journald = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
        if (format == "json")
        {
            // Registered as an instance: AddConsoleFormatter binds options from configuration, which Native AOT refuses.
            logging.Services.AddSingleton<ConsoleFormatter>(new JsonLogFormatter(syslogPriorityPrefix: journald));
            logging.AddConsole(o => o.FormatterName = JsonLogFormatter.FormatterName);
        }
        else if (journald)
        {
            logging.AddSystemdConsole();
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
            });
        }
    });
}
