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

    /// <summary>A provider's command ran (exec provider): program, exit code, duration and its output, bounded.</summary>
    public const int ProviderCommand = 30;

    /// <summary>A server's capacity was started through its provider (before its warm-up), with the address it gave.</summary>
    public const int ServerStarted = 31;

    /// <summary>A parked server was kept warm for <c>keepWarm</c> and then stopped through its provider.</summary>
    public const int ServerStopped = 32;

    /// <summary>A provider call failed; what was started is stopped again, the server is parked with a back-off.</summary>
    public const int ProviderFailed = 33;

    /// <summary>At start, a server's capacity was found running or stopped (provider status) and adopted as such.</summary>
    public const int ProcessAdopted = 34;

    /// <summary>A pool server was added to HAProxy at run time (<c>add server</c>).</summary>
    public const int ServerAdded = 35;

    /// <summary>A pool server was removed from HAProxy (<c>del server</c>).</summary>
    public const int ServerDeleted = 36;

    /// <summary>A TCP log connection from a sender outside <c>logs.allowFrom</c> was closed unread.</summary>
    public const int RejectedConnection = 40;

    /// <summary>A sender (an HAProxy's ring, rsyslog) connected to the TCP log source.</summary>
    public const int SenderConnected = 41;

    /// <summary>A sender's TCP log connection ended.</summary>
    public const int SenderDisconnected = 42;

    /// <summary>A TCP log connection was closed because its framing broke (an octet count that is not a number).</summary>
    public const int MalformedStream = 43;

    /// <summary>A TCP log connection was refused: the source already holds its maximum of connections.</summary>
    public const int TooManyConnections = 44;

    // Active/standby (ha): 45-54.

    /// <summary>This replica became the leader of its active/standby election (with its epoch); it reconciles before acting.</summary>
    public const int LeadershipGained = 45;

    /// <summary>This replica is a standby (at start, or after losing the leadership): it decides but does not act.</summary>
    public const int StandingBy = 46;

    /// <summary>A command that changes HAProxy went out, with the leader's epoch (one event per command).</summary>
    public const int LeaderCommand = 47;

    /// <summary>A command that changes HAProxy was refused: this replica is not the leader (its lease expired or is about to).</summary>
    public const int NotLeaderRefused = 48;

    /// <summary>A standby decided up or down (logged once while the decision stays the same) and did not act.</summary>
    public const int StandbyDecision = 49;

    /// <summary>The election campaigned: lease granted, key written, the current leader named.</summary>
    public const int Campaigning = 50;

    /// <summary>A coordination service endpoint failed; the election tries the next one.</summary>
    public const int ElectionEndpointFailed = 51;

    /// <summary>The lease could not be renewed before it would expire: the replica stepped down.</summary>
    public const int SteppedDown = 52;

    /// <summary>The replica gave its leadership up on stop (lease revoked), so a standby takes over at once.</summary>
    public const int Resigned = 53;

    /// <summary>Another replica leads the election (logged when the leader changes), with its epoch.</summary>
    public const int LeaderObserved = 54;

    /// <summary>A draining server still has open sessions: it is parked when they end or at the drain's deadline.</summary>
    public const int DrainWaiting = 24;

    // Reload: 70-72.

    /// <summary>A reload applied a configuration: what it added, removed and changed (with the keys), and how many backends it left unchanged.</summary>
    public const int ReloadApplied = 70;

    /// <summary>A reload rejected a configuration (every problem with its key path); the running one is kept.</summary>
    public const int ReloadRejected = 71;

    /// <summary>A reload changed settings that cannot change at run time: named, their running values kept until a restart.</summary>
    public const int ReloadNeedsRestart = 72;

    // Scale to zero: 60-69.

    /// <summary>A wake line found a backend at zero: the servers started for the requests HAProxy holds.</summary>
    public const int WakeStarted = 60;

    /// <summary>A woken backend's first server took traffic, with the time from the wake line.</summary>
    public const int WakeReady = 61;

    /// <summary>Every server a wake started failed (the cause is event 5 or 33): HAProxy answers the held requests 503 past its deadline.</summary>
    public const int WakeFailed = 62;

    /// <summary>A wake line was not acted on (paused, standby, no server to start): logged once while it lasts.</summary>
    public const int WakeNotActedOn = 63;

    /// <summary>A wake line named a backend the configuration does not have (logged for the first one; every one counted in <c>wakes</c>).</summary>
    public const int WakeUnknownBackend = 64;
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

    [LoggerMessage(AutoscaleEventIds.ServerStopped, LogLevel.Information, "{Backend}/{Server}: stopped through the {Provider} provider in {DurationMs} ms ({Why})")]
    public static partial void ServerStopped(ILogger logger, string backend, string server, string provider, long durationMs, string why);

    [LoggerMessage(AutoscaleEventIds.ProviderFailed, LogLevel.Warning, "{Backend}/{Server}: {Step} failed: {Error}")]
    public static partial void ProviderFailed(ILogger logger, string backend, string server, string step, string error);

    [LoggerMessage(AutoscaleEventIds.ProcessAdopted, LogLevel.Information, "{Backend}/{Server}: the provider reports it {State}: adopted as {Lifecycle}")]
    public static partial void ProcessAdopted(ILogger logger, string backend, string server, string state, string lifecycle);

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
}
