using System.Diagnostics;
using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Cli.Systemd;

/// <summary>
/// What the daemon tells systemd under <c>Type=notify</c>: <c>READY=1</c> once the engine has started (its log source
/// listens and the first reconcile pass is done), <c>WATCHDOG=1</c> every half watchdog interval but only while the
/// evaluation loop completes passes (a hung engine goes quiet and systemd restarts it), <c>STOPPING=1</c> as soon as
/// the shutdown starts, <c>RELOADING=1</c> then <c>READY=1</c> around a configuration reload. Nothing is sent after
/// <c>STOPPING=1</c>.
/// </summary>
internal sealed partial class SystemdService
{
    private readonly SystemdNotifier _notifier;
    private readonly Autoscaler _autoscaler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private bool _ready;
    private bool _stopping;
    private bool _failed; // a failed send is logged once

    private SystemdService(SystemdNotifier notifier, Autoscaler autoscaler, TimeProvider time, ILogger logger)
    {
        _notifier = notifier;
        _autoscaler = autoscaler;
        _time = time;
        _logger = logger;
    }

    /// <summary>The notifications until the stop: awaited after the stopping token is cancelled.</summary>
    public Task Running { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Notifies systemd for <paramref name="autoscaler"/>'s run until <paramref name="stopping"/> is cancelled (sending
    /// <c>STOPPING=1</c> then). <paramref name="evaluationInterval"/> widens how old the last evaluation pass may be for a
    /// ping: the loop waits that long between passes.
    /// </summary>
    public static SystemdService Start(SystemdNotifier notifier, Autoscaler autoscaler, string status, TimeSpan evaluationInterval, TimeProvider time, ILogger logger, CancellationToken stopping)
    {
        var service = new SystemdService(notifier, autoscaler, time, logger);
        service.Running = service.RunAsync(status, evaluationInterval, stopping);
        return service;
    }

    /// <summary>
    /// Runs <paramref name="reload"/> between <c>RELOADING=1</c> (with the <c>CLOCK_MONOTONIC</c> time systemd asks for)
    /// (Stopwatch's clock on Linux) and <c>READY=1</c>, whatever its outcome: a rejected configuration leaves the running one serving. A reload before
    /// READY (a SIGHUP during the start) says nothing: READY follows the start.
    /// </summary>
    public async Task<ReloadResult> ReloadingAsync(Func<Task<ReloadResult>> reload)
    {
        bool announced = Send(string.Create(CultureInfo.InvariantCulture,
            $"RELOADING=1\nMONOTONIC_USEC={(long)Stopwatch.GetElapsedTime(0).TotalMicroseconds}\nSTATUS=Reloading the configuration"), whenReady: true);
        ReloadResult? result = null;
        try
        {
            return result = await reload().ConfigureAwait(false);
        }
        finally
        {
            if (announced)
            {
                string outcome = result is null ? "failed: the running configuration is kept" : result.Applied ? $"applied: {result.Summary}" : result.Summary;
                Send($"READY=1\nSTATUS=Reload {outcome}");
            }
        }
    }

    private async Task RunAsync(string status, TimeSpan evaluationInterval, CancellationToken stopping)
    {
        const string Stopping = "STOPPING=1\nSTATUS=Stopping: finishing the actions in flight";
        using CancellationTokenRegistration stop = stopping.Register(() => Send(Stopping, last: true));
        try
        {
            await _autoscaler.Started.WaitAsync(stopping).ConfigureAwait(false);
            Send($"READY=1\nSTATUS={status}", ready: true);
            await (_notifier.Watchdog is { } watchdog
                ? PingWhileEvaluatingAsync(watchdog, evaluationInterval, stopping)
                : Task.Delay(Timeout.Infinite, stopping)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping, or the run ended before it started.
        }
        finally
        {
            // Also here: a continuation run inline by the cancellation can dispose the registration before its turn.
            Send(Stopping, last: true);
        }
    }

    // A ping when the loop completed a pass within one evaluation interval plus half the watchdog interval. A hung
    // loop is noticed after that plus the watchdog interval; a healthy loop always qualifies, whatever its interval.
    private async Task PingWhileEvaluatingAsync(TimeSpan watchdog, TimeSpan evaluationInterval, CancellationToken stopping)
    {
        TimeSpan every = watchdog / 2;
        TimeSpan fresh = evaluationInterval + every;
        Log.WatchdogEnabled(_logger, Durations.Format(watchdog), Durations.Format(every), Durations.Format(fresh), Durations.Format(fresh + watchdog));
        if (evaluationInterval > every)
        {
            Log.WatchdogSlow(_logger, Durations.Format(evaluationInterval), Durations.Format(watchdog));
        }

        DateTimeOffset ready = _time.GetUtcNow();
        bool withheld = false;
        using var timer = new PeriodicTimer(every, _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
        {
            DateTimeOffset last = _autoscaler.LastEvaluation is { } evaluated && evaluated > ready ? evaluated : ready;
            TimeSpan since = _time.GetUtcNow() - last;
            if (since <= fresh)
            {
                Send("WATCHDOG=1");
                if (withheld)
                {
                    Log.WatchdogResumed(_logger);
                    withheld = false;
                }
            }
            else if (!withheld)
            {
                Log.WatchdogWithheld(_logger, Durations.Format(since));
                withheld = true;
            }
        }
    }

    // Whether it was sent: nothing after STOPPING=1, and a reload's notifications only after READY.
    private bool Send(string state, bool last = false, bool ready = false, bool whenReady = false)
    {
        lock (_gate)
        {
            if (_stopping || (whenReady && !_ready))
            {
                return false;
            }

            (_stopping, _ready) = (last, _ready || ready);
            if (_notifier.Notify(state) is { } error && !_failed)
            {
                _failed = true;
                Log.NotifyFailed(_logger, _notifier.Address, error);
            }

            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(SystemdEventIds.WatchdogEnabled, LogLevel.Information, "systemd watchdog ({Watchdog}): a ping every {Every} while the evaluation loop has completed a pass within {Fresh}; a hung loop is restarted within {Bound}")]
        public static partial void WatchdogEnabled(ILogger logger, string watchdog, string every, string fresh, string bound);

        [LoggerMessage(SystemdEventIds.WatchdogSlow, LogLevel.Warning, "systemd watchdog: evaluationInterval {Interval} is longer than half of WatchdogSec ({Watchdog}): a hung loop is noticed that much later; consider a longer WatchdogSec")]
        public static partial void WatchdogSlow(ILogger logger, string interval, string watchdog);

        [LoggerMessage(SystemdEventIds.WatchdogWithheld, LogLevel.Warning, "systemd watchdog: ping withheld: the evaluation loop has completed no pass for {Since}; systemd restarts the service if this lasts")]
        public static partial void WatchdogWithheld(ILogger logger, string since);

        [LoggerMessage(SystemdEventIds.WatchdogResumed, LogLevel.Information, "systemd watchdog: the evaluation loop completed a pass again; pings resumed")]
        public static partial void WatchdogResumed(ILogger logger);

        [LoggerMessage(SystemdEventIds.NotifyFailed, LogLevel.Warning, "systemd notification to {Socket} failed: {Error} (logged once)")]
        public static partial void NotifyFailed(ILogger logger, string socket, string error);
    }
}

/// <summary>The event ids of the daemon's systemd log lines (category <c>HaproxyAutoscale.Systemd</c>).</summary>
internal static class SystemdEventIds
{
    public const int WatchdogEnabled = 80;
    public const int WatchdogSlow = 81;
    public const int WatchdogWithheld = 82;
    public const int WatchdogResumed = 83;
    public const int NotifyFailed = 84;
}
