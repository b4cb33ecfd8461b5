using System.Globalization;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

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

    // The level is the caller's: past the first servers of one reading, each server's line is debug (see Adoptions).
    [LoggerMessage(EventId = AutoscaleEventIds.Adopted, Message = "{Backend}/{Server}: adopted as {Role} from HAProxy's state on {Endpoint}")]
    public static partial void Adopted(ILogger logger, LogLevel level, string backend, string server, string role, string endpoint);

    [LoggerMessage(AutoscaleEventIds.AdoptedMany, LogLevel.Information,
        "Adopted {Count} servers from HAProxy's state on {Endpoint}: {Active} active, {Parked} parked (the first {Each} logged one by one, the rest at debug level)")]
    public static partial void AdoptedMany(ILogger logger, int count, string endpoint, int active, int parked, int each);

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

    [LoggerMessage(AutoscaleEventIds.RejectedConnection, LogLevel.Warning, "Log connections from {Sender} to {LogSource} are rejected: the sender is not in logs.allowFrom ({AllowFrom}); add it there if it is an HAProxy of yours. Its connections are counted in log_lines{{outcome=\"rejected\"}}")]
    public static partial void RejectedConnection(ILogger logger, string sender, string logSource, string allowFrom);

    [LoggerMessage(AutoscaleEventIds.SenderConnected, LogLevel.Information, "Log sender {Sender} connected to {LogSource}")]
    public static partial void SenderConnected(ILogger logger, string sender, string logSource);

    [LoggerMessage(AutoscaleEventIds.SenderDisconnected, LogLevel.Information, "Log sender {Sender} disconnected from {LogSource} ({Framing} framing): {Reason}")]
    public static partial void SenderDisconnected(ILogger logger, string sender, string logSource, string framing, string reason);

    [LoggerMessage(AutoscaleEventIds.MalformedStream, LogLevel.Warning, "Log sender {Sender} to {LogSource}: {Problem}; the connection is closed (the rest of the stream cannot be cut into lines) and counted in log_lines{{outcome=\"malformed\"}}; the sender reconnects")]
    public static partial void MalformedStream(ILogger logger, string sender, string logSource, string problem);

    [LoggerMessage(AutoscaleEventIds.TooManyConnections, LogLevel.Warning, "Log connection from {Sender} to {LogSource} refused: {MaxConnections} senders are connected already")]
    public static partial void TooManyConnections(ILogger logger, string sender, string logSource, int maxConnections);
    [LoggerMessage(AutoscaleEventIds.HeldByGate, LogLevel.Debug, "{Backend}: hold ({Gate}): {Reason}")]
    public static partial void HeldByGate(ILogger logger, string backend, string gate, string reason);

    /// <summary>A window value for messages: "950 ms", or "no samples".</summary>
    public static string Value(WindowValue window) =>
        window.HasValue ? string.Create(CultureInfo.InvariantCulture, $"{window.Value:0.#} ms") : "no samples";

    [LoggerMessage(AutoscaleEventIds.ServerStarted, LogLevel.Information, "{Backend}/{Server}: started through the {Provider} provider in {DurationMs} ms (address {Address})")]
    public static partial void ServerStarted(ILogger logger, string backend, string server, string provider, long durationMs, string address);

    // The level is the caller's: keep-warm stops past the first of a minute are debug (see LineBudget).
    [LoggerMessage(EventId = AutoscaleEventIds.ServerStopped, Message = "{Backend}/{Server}: stopped through the {Provider} provider in {DurationMs} ms ({Why})")]
    public static partial void ServerStopped(ILogger logger, LogLevel level, string backend, string server, string provider, long durationMs, string why);

    [LoggerMessage(AutoscaleEventIds.StoppedMany, LogLevel.Information,
        "Stopped {Count} more servers kept warm since {Since:HH:mm:ss} UTC, logged at debug level (past {Each} a minute, stops are not logged one by one)")]
    public static partial void StoppedMany(ILogger logger, int count, DateTimeOffset since, int each);

    [LoggerMessage(AutoscaleEventIds.ProviderFailed, LogLevel.Warning, "{Backend}/{Server}: {Step} failed: {Error}")]
    public static partial void ProviderFailed(ILogger logger, string backend, string server, string step, string error);

    // The level is the caller's: past the first servers of one adoption, each server's line is debug (see KeepWarm).
    [LoggerMessage(EventId = AutoscaleEventIds.ProcessAdopted, Message = "{Backend}/{Server}: the provider reports it {State}: adopted as {Lifecycle}")]
    public static partial void ProcessAdopted(ILogger logger, LogLevel level, string backend, string server, string state, string lifecycle);

    [LoggerMessage(AutoscaleEventIds.ProcessesAdopted, LogLevel.Information,
        "Asked the providers about {Count} parked servers in {Took}: {Running} running, {Stopped} stopped, {Unknown} unknown, {Other} taken by an action meanwhile or not answered (the first {Each} logged one by one, the rest at debug level)")]
    public static partial void ProcessesAdopted(ILogger logger, int count, string took, int running, int stopped, int unknown, int other, int each);

    [LoggerMessage(AutoscaleEventIds.ServerAdded, LogLevel.Information, "{Backend}/{Server}: added to HAProxy at {Address} ({Why})")]
    public static partial void ServerAdded(ILogger logger, string backend, string server, string address, string why);

    [LoggerMessage(AutoscaleEventIds.DrainWaiting, LogLevel.Information, "{Backend}/{Server}: draining, waiting for {Sessions} open session(s) to end (until {Deadline:HH:mm:ss}, scaleDown.drainTimeout)")]
    public static partial void DrainWaiting(ILogger logger, string backend, string server, int sessions, DateTimeOffset deadline);

    [LoggerMessage(AutoscaleEventIds.ReloadApplied, LogLevel.Information, "Reload applied: {Changes}")]
    public static partial void ReloadApplied(ILogger logger, string changes);

    [LoggerMessage(AutoscaleEventIds.ReloadRejected, LogLevel.Warning, "Reload rejected, the running configuration is kept: {Count} problem(s): {Errors}")]
    public static partial void ReloadRejected(ILogger logger, int count, string errors);

    [LoggerMessage(AutoscaleEventIds.ReloadNeedsRestart, LogLevel.Warning, "Reload: {Settings} changed but cannot change at run time: the running values are kept until a restart")]
    public static partial void ReloadNeedsRestart(ILogger logger, string settings);

    [LoggerMessage(AutoscaleEventIds.ServerDeleted, LogLevel.Information, "{Backend}/{Server}: deleted from HAProxy")]
    public static partial void ServerDeleted(ILogger logger, string backend, string server);

    [LoggerMessage(AutoscaleEventIds.WakeStarted, LogLevel.Information, "{Backend}: woken at zero by {Held} request(s) HAProxy holds: starting {Servers}")]
    public static partial void WakeStarted(ILogger logger, string backend, int held, string servers);

    [LoggerMessage(AutoscaleEventIds.WakeReady, LogLevel.Information, "{Backend}: awake: {Server} took traffic {DurationMs} ms after the wake line ({Held} request(s) held)")]
    public static partial void WakeReady(ILogger logger, string backend, string server, long durationMs, int held);

    [LoggerMessage(AutoscaleEventIds.WakeFailed, LogLevel.Warning, "{Backend}: the wake failed after {DurationMs} ms: {Error}; HAProxy answers the {Held} held request(s) 503 past its hold deadline")]
    public static partial void WakeFailed(ILogger logger, string backend, long durationMs, string error, int held);

    [LoggerMessage(AutoscaleEventIds.WakeNotActedOn, LogLevel.Information, "{Backend}: wake line for {Held} held request(s) not acted on: {Why}")]
    public static partial void WakeNotActedOn(ILogger logger, string backend, int held, string why);

    [LoggerMessage(AutoscaleEventIds.WakeUnknownBackend, LogLevel.Warning, "A wake line names the backend '{Backend}', which is not autoscaled; ignored (counted in wakes{{outcome=\"unknown-backend\"}})")]
    public static partial void WakeUnknownBackend(ILogger logger, string backend);

    [LoggerMessage(AutoscaleEventIds.ForecastChanged, LogLevel.Information, "{Backend}: {Action}: {Reason}")]
    public static partial void ForecastChanged(ILogger logger, string backend, string action, string reason);

    [LoggerMessage(AutoscaleEventIds.ForecastHistoryRead, LogLevel.Information, "{Backend}: forecast: {Note}")]
    public static partial void ForecastHistoryRead(ILogger logger, string backend, string note);

    [LoggerMessage(AutoscaleEventIds.ForecastHistoryFailed, LogLevel.Warning, "Writing the forecasts' demand history failed: {Error}; the forecasts go on from memory")]
    public static partial void ForecastHistoryFailed(ILogger logger, string error);
}
