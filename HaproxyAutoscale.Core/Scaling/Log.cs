using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>The engine's log events, one per decision and per action, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Autoscaling {BackendCount} backend(s) from {LogSource} through {Endpoints}{DryRun}")]
    public static partial void Started(ILogger logger, int backendCount, string logSource, string endpoints, string dryRun);

    [LoggerMessage(2, LogLevel.Information, "{Backend}: decided {Action} {Server}: {Reason} (window {Window})")]
    public static partial void Decision(ILogger logger, string backend, string action, string server, string reason, string window);

    [LoggerMessage(3, LogLevel.Debug, "{Backend}: hold: {Reason}")]
    public static partial void Hold(ILogger logger, string backend, string reason);

    [LoggerMessage(4, LogLevel.Information, "{Backend}/{Server}: {Action} done in {DurationMs} ms: {Reason} (window {Window})")]
    public static partial void ActionCompleted(ILogger logger, string backend, string server, string action, long durationMs, string reason, string window);

    [LoggerMessage(5, LogLevel.Warning, "{Backend}/{Server}: {Action} failed after {DurationMs} ms: {Error}; retried after {RetryAfter}")]
    public static partial void ActionFailed(ILogger logger, string backend, string server, string action, long durationMs, string error, string retryAfter);

    [LoggerMessage(6, LogLevel.Warning, "{Backend}/{Server}: warm-up of {Url} failed: {Reason}; the server stays parked")]
    public static partial void WarmupFailed(ILogger logger, string backend, string server, Uri url, string reason);

    [LoggerMessage(7, LogLevel.Warning, "{Backend}/{Server}: put in maintenance by someone else on {Endpoint}; left alone until it is enabled again")]
    public static partial void HeldByOperator(ILogger logger, string backend, string server, string endpoint);

    [LoggerMessage(8, LogLevel.Warning, "{Endpoint}: HAProxy restarted or reloaded (pid {OldPid} -> {NewPid}, uptime {UptimeSeconds} s) and lost runtime state; re-applying {Count} server state(s)")]
    public static partial void Reapplying(ILogger logger, string endpoint, int oldPid, int newPid, long uptimeSeconds, int count);

    [LoggerMessage(9, LogLevel.Warning, "Reading state from HAProxy failed: {Error}")]
    public static partial void ReconcileFailed(ILogger logger, string error);

    [LoggerMessage(10, LogLevel.Information, "{Backend}/{Server}: dry run, not sent: {Commands}")]
    public static partial void DryRun(ILogger logger, string backend, string server, string commands);

    [LoggerMessage(11, LogLevel.Information, "{Backend}/{Server}: adopted as {Role} from HAProxy's state on {Endpoint}")]
    public static partial void Adopted(ILogger logger, string backend, string server, string role, string endpoint);

    [LoggerMessage(12, LogLevel.Warning, "{Backend}/{Server}: the configuration names a server HAProxy does not have on {Endpoint}; it is never acted on")]
    public static partial void UnknownServer(ILogger logger, string backend, string server, string endpoint);

    [LoggerMessage(14, LogLevel.Information, "Stopped after reading {Lines} log lines ({Unparsed} not request logs, {Dropped} dropped because processing fell behind, {Oversized} too long)")]
    public static partial void Stopped(ILogger logger, long lines, long unparsed, long dropped, long oversized);

    [LoggerMessage(13, LogLevel.Error, "The log source {LogSource} failed: {Error}")]
    public static partial void SourceFailed(ILogger logger, string logSource, string error);
}
