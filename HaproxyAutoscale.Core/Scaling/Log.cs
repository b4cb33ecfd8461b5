using System.Globalization;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>The event ids of the autoscaler's log events (category <c>HaproxyAutoscale</c>), stable across versions.</summary>
public static class AutoscaleEventIds
{
    /// <summary>The autoscaler started: backends, log source, endpoints, dry run.</summary>
    public const int Started = 1;

    /// <summary>A backend decided up or down, with the server, the reason and the window value.</summary>
    public const int Decision = 2;

    /// <summary>A backend held (debug level), with the reason.</summary>
    public const int Hold = 3;

    /// <summary>An action completed, with its duration.</summary>
    public const int ActionCompleted = 4;

    /// <summary>An action failed: the server is back where it was and kept out for a back-off.</summary>
    public const int ActionFailed = 5;

    /// <summary>A warm-up failed: the server stays parked.</summary>
    public const int WarmupFailed = 6;

    /// <summary>A server was put in maintenance by someone else: left alone until it is enabled again.</summary>
    public const int HeldByOperator = 7;

    /// <summary>An HAProxy instance restarted or reloaded and lost runtime state: the desired state is applied again.</summary>
    public const int Reapplied = 8;

    /// <summary>Reading state from an HAProxy instance failed.</summary>
    public const int ReconcileFailed = 9;

    /// <summary>Dry run: a command that changes HAProxy was not sent.</summary>
    public const int DryRun = 10;

    /// <summary>A server's role was adopted from HAProxy's state.</summary>
    public const int Adopted = 11;

    /// <summary>The configuration names a server HAProxy does not have.</summary>
    public const int UnknownServer = 12;

    /// <summary>The log source failed; the autoscaler stops.</summary>
    public const int SourceFailed = 13;

    /// <summary>The autoscaler stopped, with the log source's counters.</summary>
    public const int Stopped = 14;

    /// <summary>An extension (policy, window, warm-up, control) threw: contained, counted, the backend held or the server parked.</summary>
    public const int ExtensionFailed = 15;

    /// <summary>An operator paused a backend: it decides and logs, but acts on nothing.</summary>
    public const int Paused = 16;

    /// <summary>A paused backend was resumed (by an operator, or its pause ended).</summary>
    public const int Resumed = 17;

    /// <summary>
    /// A log datagram came from a sender outside <c>logs.allowFrom</c> and was rejected: logged for the first datagram
    /// of each sender (up to 16 senders), every one counted in <c>log_lines{outcome="rejected"}</c>.
    /// </summary>
    public const int RejectedSender = 18;

    /// <summary>A backend turned blind: HAProxy counts requests its logs do not show; no scale-down until they are back.</summary>
    public const int BlindStarted = 19;

    /// <summary>A blind backend's logs are back.</summary>
    public const int BlindEnded = 20;

    /// <summary>Reading HAProxy's counters failed (logged once until they can be read again).</summary>
    public const int CountersFailed = 21;

    /// <summary>A pause or blindness held back an action the policy asked for (once per spell; later ones are event 3).</summary>
    public const int HeldBack = 22;

    /// <summary>
    /// A rule of the engine held a decision back (debug level, every evaluation): the gate (<c>cooldown</c>,
    /// <c>stabilization</c>, <c>tolerance</c>, <c>bounds</c>, <c>minIdle</c>, <c>selection</c>, <c>blind</c>,
    /// <c>paused</c>…) and the reason. A hold the policy itself decided is event 3.
    /// </summary>
    public const int HeldByGate = 23;
}

/// <summary>The engine's log events, one per decision and per action.</summary>
internal static partial class Log
{
    [LoggerMessage(AutoscaleEventIds.Started, LogLevel.Information, "Autoscaling {BackendCount} backend(s) from {LogSource} through {Endpoints}{DryRun}")]
    public static partial void Started(ILogger logger, int backendCount, string logSource, string endpoints, string dryRun);

    [LoggerMessage(AutoscaleEventIds.Decision, LogLevel.Information, "{Backend}: decided {Action} {Server}: {Reason} (window {Window})")]
    public static partial void Decision(ILogger logger, string backend, string action, string server, string reason, string window);

    [LoggerMessage(AutoscaleEventIds.Hold, LogLevel.Debug, "{Backend}: hold: {Reason}")]
    public static partial void Hold(ILogger logger, string backend, string reason);

    [LoggerMessage(AutoscaleEventIds.ActionCompleted, LogLevel.Information, "{Backend}/{Server}: {Action} done in {DurationMs} ms: {Reason} (window {Window})")]
    public static partial void ActionCompleted(ILogger logger, string backend, string server, string action, long durationMs, string reason, string window);

    [LoggerMessage(AutoscaleEventIds.ActionFailed, LogLevel.Warning, "{Backend}/{Server}: {Action} failed after {DurationMs} ms: {Error}; retried after {RetryAfter}")]
    public static partial void ActionFailed(ILogger logger, string backend, string server, string action, long durationMs, string error, string retryAfter);

    [LoggerMessage(AutoscaleEventIds.WarmupFailed, LogLevel.Warning, "{Backend}/{Server}: warm-up of {Url} failed: {Reason}; the server stays parked")]
    public static partial void WarmupFailed(ILogger logger, string backend, string server, Uri url, string reason);

    [LoggerMessage(AutoscaleEventIds.HeldByOperator, LogLevel.Warning, "{Backend}/{Server}: put in maintenance by someone else on {Endpoint}; left alone until it is enabled again")]
    public static partial void HeldByOperator(ILogger logger, string backend, string server, string endpoint);

    [LoggerMessage(AutoscaleEventIds.Reapplied, LogLevel.Warning, "{Endpoint}: HAProxy restarted or reloaded (pid {OldPid} -> {NewPid}, uptime {UptimeSeconds} s) and lost runtime state; re-applying {Count} server state(s)")]
    public static partial void Reapplying(ILogger logger, string endpoint, int oldPid, int newPid, long uptimeSeconds, int count);

    [LoggerMessage(AutoscaleEventIds.ReconcileFailed, LogLevel.Warning, "Reading state from HAProxy failed: {Error}")]
    public static partial void ReconcileFailed(ILogger logger, string error);

    [LoggerMessage(AutoscaleEventIds.Adopted, LogLevel.Information, "{Backend}/{Server}: adopted as {Role} from HAProxy's state on {Endpoint}")]
    public static partial void Adopted(ILogger logger, string backend, string server, string role, string endpoint);

    [LoggerMessage(AutoscaleEventIds.UnknownServer, LogLevel.Warning, "{Backend}/{Server}: the configuration names a server HAProxy does not have on {Endpoint}; it is never acted on")]
    public static partial void UnknownServer(ILogger logger, string backend, string server, string endpoint);

    [LoggerMessage(AutoscaleEventIds.SourceFailed, LogLevel.Error, "The log source {LogSource} failed: {Error}")]
    public static partial void SourceFailed(ILogger logger, string logSource, string error);

    [LoggerMessage(AutoscaleEventIds.Stopped, LogLevel.Information, "Stopped after reading {Lines} log lines ({Unparsed} not request logs, {Dropped} dropped because processing fell behind, {Oversized} too long)")]
    public static partial void Stopped(ILogger logger, long lines, long unparsed, long dropped, long oversized);

    [LoggerMessage(AutoscaleEventIds.ExtensionFailed, LogLevel.Error, "{Backend}/{Server}: {Extension} threw {Error}; contained (counted in extension_failures)")]
    public static partial void ExtensionFailed(ILogger logger, string backend, string server, string extension, string error);

    [LoggerMessage(AutoscaleEventIds.Paused, LogLevel.Warning, "{Backend}: paused {HowLong}: decisions are logged, no action is taken")]
    public static partial void Paused(ILogger logger, string backend, string howLong);

    [LoggerMessage(AutoscaleEventIds.Resumed, LogLevel.Warning, "{Backend}: resumed ({Why})")]
    public static partial void Resumed(ILogger logger, string backend, string why);

    [LoggerMessage(AutoscaleEventIds.RejectedSender, LogLevel.Warning, "Log datagrams from {Sender} to {LogSource} are rejected: the sender is not in logs.allowFrom ({AllowFrom}); add it there if it is an HAProxy of yours. Its datagrams are counted in log_lines{{outcome=\"rejected\"}}")]
    public static partial void RejectedSender(ILogger logger, string sender, string logSource, string allowFrom);

    [LoggerMessage(AutoscaleEventIds.BlindStarted, LogLevel.Warning, "{Backend}: blind: HAProxy counted {Counted} requests over the last two counter readings, the logs showed {Logged} (coverage {Coverage}); no scale-down until the logs are back. Likely causes: the log relay (rsyslog, journald) stopped, a firewall, a wrong log target or port after a reload, datagrams dropped (see the log_lines metric), or log sampling not declared in logs.sampleRatio")]
    public static partial void BlindStarted(ILogger logger, string backend, long counted, long logged, string coverage);

    [LoggerMessage(AutoscaleEventIds.BlindEnded, LogLevel.Warning, "{Backend}: the logs are back (coverage {Coverage}): normal decisions resume")]
    public static partial void BlindEnded(ILogger logger, string backend, string coverage);

    [LoggerMessage(AutoscaleEventIds.CountersFailed, LogLevel.Warning, "Reading HAProxy's counters failed: {Error}; until they can be read, no backend scales down")]
    public static partial void CountersFailed(ILogger logger, string error);

    [LoggerMessage(AutoscaleEventIds.HeldBack, LogLevel.Information, "{Backend}: held back ({Rule}): {Reason}")]
    public static partial void HeldBack(ILogger logger, string backend, string rule, string reason);

    [LoggerMessage(AutoscaleEventIds.HeldByGate, LogLevel.Debug, "{Backend}: hold ({Gate}): {Reason}")]
    public static partial void HeldByGate(ILogger logger, string backend, string gate, string reason);

    /// <summary>A window value for messages: "950 ms", or "no samples".</summary>
    public static string Value(WindowValue window) =>
        window.HasValue ? string.Create(CultureInfo.InvariantCulture, $"{window.Value:0.#} ms") : "no samples";
}
