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

    /// <summary>One reading adopted more servers than are logged one by one: how many, active and parked.</summary>
    public const int AdoptedMany = 25;

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

    /// <summary>One adoption asked the providers about more servers than are logged one by one: how many, and their answers.</summary>
    public const int ProcessesAdopted = 37;

    /// <summary>More servers were stopped after <c>keepWarm</c> than are logged one by one in a minute: how many since when.</summary>
    public const int StoppedMany = 38;

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

    /// <summary>A backend's forecast floor changed: what it asks for and why (<c>forecast-only</c>: what it would do; <c>on</c>: the floor it raises).</summary>
    public const int ForecastChanged = 90;

    /// <summary>A backend's demand history was read from the state directory (minutes read, records skipped), or could not be.</summary>
    public const int ForecastHistoryRead = 91;

    /// <summary>Writing the demand history to the state directory failed (logged once per spell of failures).</summary>
    public const int ForecastHistoryFailed = 92;

    // Learned capacity: 100-103.

    /// <summary>A backend's learned server model became confident: its workers, service time and capacity per server within the SLO.</summary>
    public const int CapacityLearned = 100;

    /// <summary>A backend's service time moved and stayed moved: the learned model starts again from the recent requests.</summary>
    public const int CapacityDrift = 101;

    /// <summary>A backend's learned model was read from the state directory at start, or could not be (it then starts blind).</summary>
    public const int CapacityRestored = 102;

    /// <summary>Writing a learned model to the state directory failed (logged once per spell of failures).</summary>
    public const int CapacitySaveFailed = 103;
}
