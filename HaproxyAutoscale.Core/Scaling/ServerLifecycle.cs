using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>What the autoscaler believes about one configured server.</summary>
public enum ServerRole
{
    /// <summary>In maintenance, available to scale up.</summary>
    Parked,

    /// <summary>Being warmed up before it is enabled; counts as capacity.</summary>
    Warming,

    /// <summary>Taking traffic.</summary>
    Active,

    /// <summary>Draining on its way to maintenance.</summary>
    Draining,

    /// <summary>Put in maintenance by someone else: left alone and reported.</summary>
    HeldByOperator,
}

/// <summary>
/// Where a server is in its life: <c>stopped → starting → warming → active → draining → parked (warm) → stopping →
/// stopped</c>. Without a provider a server is only ever warming, active, draining or parked (its process is not the
/// autoscaler's); with one, a parked server keeps running for <c>keepWarm</c>, then it is stopped.
/// </summary>
public enum ServerLifecycleState
{
    /// <summary>Not running (a pool slot: not in HAProxy either); a scale-up starts it first.</summary>
    Stopped,

    /// <summary>Being started through its provider.</summary>
    Starting,

    /// <summary>Running, being warmed up before it is enabled.</summary>
    Warming,

    /// <summary>Taking traffic.</summary>
    Active,

    /// <summary>Draining on its way to maintenance.</summary>
    Draining,

    /// <summary>In maintenance and, with a provider, still running (kept warm): a scale-up enables it without a start.</summary>
    Parked,

    /// <summary>Being stopped through its provider after it was kept warm.</summary>
    Stopping,

    /// <summary>Put in maintenance by someone else: left alone and reported.</summary>
    HeldByOperator,
}

/// <summary>A backend's state as the autoscaler sees it, for live views, health and admin endpoints.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Window">Its window's value now.</param>
/// <param name="Servers">Each configured server and what the autoscaler believes it is.</param>
public sealed record BackendSnapshot(string Backend, WindowValue Window, IReadOnlyList<(string Server, ServerRole Role)> Servers)
{
    /// <summary>
    /// Requests logged ÷ requests HAProxy counted over the coverage interval (1.0: every request was seen in the
    /// logs); <see langword="null"/> before HAProxy's counters were read, or while HAProxy counted no request.
    /// </summary>
    public double? Coverage { get; init; }

    /// <summary>Whether the backend is blind: HAProxy counts traffic the logs do not show, so nothing scales it down.</summary>
    public bool Blind { get; init; }

    /// <summary>Until when the backend is paused (it decides and logs, but acts on nothing); <see langword="null"/> when not paused.</summary>
    public DateTimeOffset? PausedUntil { get; init; }

    /// <summary>The last evaluation's outcome, or <see langword="null"/> before the first one.</summary>
    public BackendDecision? LastDecision { get; init; }

    /// <summary>
    /// Each server's lifecycle state, in the order of <see cref="Servers"/> (pool slots included), with the address a
    /// provider gave it; empty for a snapshot built by hand.
    /// </summary>
    public IReadOnlyList<ServerLifecycleInfo> Lifecycle { get; init; } = [];
}

/// <summary>One server's lifecycle state, as reported by <see cref="BackendSnapshot.Lifecycle"/>.</summary>
/// <param name="Server">The server.</param>
/// <param name="State">Where it is in its life.</param>
/// <param name="Address">The address its provider gave (<c>ADDRESS:PORT</c>), or <see langword="null"/>.</param>
/// <param name="Since">When it entered <paramref name="State"/>.</param>
public sealed record ServerLifecycleInfo(string Server, ServerLifecycleState State, string? Address, DateTimeOffset Since);

/// <summary>One evaluation's outcome for a backend, as reported by <see cref="BackendSnapshot.LastDecision"/>.</summary>
/// <param name="Time">When it was decided.</param>
/// <param name="Action">Up, down, or hold.</param>
/// <param name="Servers">The servers it moves (empty for a hold).</param>
/// <param name="Reason">The policy's reason and, for a hold the engine imposed, the rule that held it back.</param>
/// <param name="HeldBy">The engine rule that turned the policy's decision into a hold (e.g. <c>settle</c>, <c>bounds</c>, <c>blind</c>, <c>paused</c>), or <see langword="null"/>.</param>
public sealed record BackendDecision(DateTimeOffset Time, ScalingAction Action, IReadOnlyList<string> Servers, string Reason, string? HeldBy);

/// <summary>
/// Every configured server of one backend and what the autoscaler believes it is: written by the actuator (and the
/// reconciler, from HAProxy's state), read by the decider. Not thread-safe: callers hold the backend's lock.
/// </summary>
internal sealed class ServerTable
{
    private static readonly TimeSpan MaxFailureBackoff = TimeSpan.FromMinutes(10);

    private readonly Dictionary<string, Entry> _servers;
    private readonly TimeProvider _time;

    public ServerTable(BackendOptions backend, TimeProvider time)
    {
        Backend = backend;
        _time = time;
        _servers = backend.Servers.ToDictionary(s => s.Name, s => new Entry(s, time.GetUtcNow()), StringComparer.Ordinal);
        foreach (Entry entry in _servers.Values.Where(e => Providers.PoolSlots.IsSlot(backend, e.Options.Name)))
        {
            entry.Lifecycle = ServerLifecycleState.Stopped; // not in HAProxy until started and added
        }
    }

    public BackendOptions Backend { get; }

    /// <summary>Each configured server and its role, in configuration order.</summary>
    public IEnumerable<(string Server, ServerRole Role)> Roles => Backend.Servers.Select(s => (s.Name, _servers[s.Name].Role));

    /// <summary>Servers taking traffic or warming up: warming counts as capacity.</summary>
    public int Capacity => _servers.Values.Count(s => s.Role is ServerRole.Active or ServerRole.Warming);

    public bool Contains(string server) => _servers.ContainsKey(server);

    public ServerRole RoleOf(string server) => _servers[server].Role;

    /// <summary>Counts every change of a role: a reading of HAProxy taken before a change must not overwrite it.</summary>
    public long Changes { get; private set; }

    /// <summary>
    /// Whether an action on the server failed part-way (a drain sent but not the maintenance, a command that timed
    /// out and may still run): HAProxy's state for it is unknown, and the reconciler applies the role's state again.
    /// </summary>
    public bool IsUnsettled(string server) => _servers[server].Unsettled;

    /// <summary>The reconciler applied the role's state again.</summary>
    public void Settled(string server) => _servers[server].Unsettled = false;

    /// <summary>When the last scale-up completed (a warming server became active), or <see langword="null"/>; cooldowns start here.</summary>
    public DateTimeOffset? LastUpCompleted { get; private set; }

    /// <summary>When the last scale-down completed (a draining server was parked), or <see langword="null"/>.</summary>
    public DateTimeOffset? LastDownCompleted { get; private set; }

    /// <summary>
    /// Sets what a server is. <paramref name="justEnabled"/>: it starts serving now (settle time applies), as opposed to
    /// adopted as already serving. <paramref name="lifecycle"/>: its lifecycle state, when the role alone does not say it
    /// (a parked server that was stopped, a warming one being started).
    /// </summary>
    public void Set(string server, ServerRole role, bool justEnabled = true, ServerLifecycleState? lifecycle = null)
    {
        Entry entry = _servers[server];
        if (role == ServerRole.Active && entry.Role != ServerRole.Active)
        {
            entry.ActiveSince = justEnabled ? _time.GetUtcNow() : DateTimeOffset.MinValue;
        }

        // An action completes when its server reaches the role it was claimed for.
        if (entry.Role == ServerRole.Warming && role == ServerRole.Active)
        {
            LastUpCompleted = _time.GetUtcNow();
        }
        else if (entry.Role == ServerRole.Draining && role == ServerRole.Parked)
        {
            LastDownCompleted = _time.GetUtcNow();
        }

        entry.Role = role;
        SetLifecycle(entry, lifecycle ?? role switch
        {
            ServerRole.Warming => ServerLifecycleState.Warming,
            ServerRole.Active => ServerLifecycleState.Active,
            ServerRole.Draining => ServerLifecycleState.Draining,
            ServerRole.HeldByOperator => ServerLifecycleState.HeldByOperator,
            // A parked server keeps the lifecycle it had if that was already a parked one (stopped stays stopped).
            _ => entry.Lifecycle is ServerLifecycleState.Stopped or ServerLifecycleState.Stopping ? entry.Lifecycle : ServerLifecycleState.Parked,
        });
        Changes++;
    }

    /// <summary>The server's lifecycle state.</summary>
    public ServerLifecycleState LifecycleOf(string server) => _servers[server].Lifecycle;

    /// <summary>Sets only the lifecycle state (the role stays): starting → warming, parked → stopping → stopped.</summary>
    public void SetLifecycle(string server, ServerLifecycleState lifecycle)
    {
        SetLifecycle(_servers[server], lifecycle);
        Changes++;
    }

    /// <summary>When the server entered its lifecycle state (a parked server: since when it is kept warm).</summary>
    public DateTimeOffset LifecycleSince(string server) => _servers[server].LifecycleSince;

    /// <summary>The address a provider gave the server (pool servers: where HAProxy sends it traffic), or <see langword="null"/>.</summary>
    public string? AddressOf(string server) => _servers[server].Address;

    public void SetAddress(string server, string? address) => _servers[server].Address = address;

    /// <summary>Each server's lifecycle, in configuration order.</summary>
    public IEnumerable<ServerLifecycleInfo> Lifecycle => Backend.Servers.Select(s => Info(s.Name, _servers[s.Name]));

    /// <summary>Makes a parked server due for its stop at once (its state is unknown, or its stop failed): no keep-warm wait.</summary>
    public void StopDue(string server) => _servers[server].LifecycleSince = DateTimeOffset.MinValue;

    private static ServerLifecycleInfo Info(string server, Entry entry) => new(server, entry.Lifecycle, entry.Address, entry.LifecycleSince);

    private void SetLifecycle(Entry entry, ServerLifecycleState lifecycle)
    {
        if (entry.Lifecycle != lifecycle)
        {
            entry.Lifecycle = lifecycle;
            entry.LifecycleSince = _time.GetUtcNow();
        }
    }

    /// <summary>Whether <paramref name="server"/> started serving less than the settle time ago (its first answers are slow).</summary>
    public bool IsSettling(string server, DateTimeOffset now) =>
        _servers.TryGetValue(server, out Entry? entry) && entry.Role == ServerRole.Active && now - entry.ActiveSince < Backend.SettleTime;

    /// <summary>When the server was last enabled by the autoscaler (<see cref="DateTimeOffset.MinValue"/> when adopted or never).</summary>
    public DateTimeOffset EnabledAt(string server) => _servers[server].ActiveSince;

    /// <summary>The server's current sessions (HAProxy's <c>scur</c>, summed over the instances) at the last counter reading, or -1 before one.</summary>
    public int SessionsOf(string server) => _servers[server].Sessions;

    /// <summary>Records the server's current sessions from a counter reading (an unknown server is ignored).</summary>
    public void SetSessions(string server, int sessions)
    {
        if (_servers.TryGetValue(server, out Entry? entry))
        {
            entry.Sessions = sessions;
        }
    }

    /// <summary>When the server last logged a request (kept only when <c>behavior.down.minIdleBeforePark</c> is set).</summary>
    public DateTimeOffset LastRequestOf(string server) => _servers[server].LastRequest;

    /// <summary>Records that the server logged a request now (an unknown server is ignored).</summary>
    public void NoteRequest(string server, DateTimeOffset now)
    {
        if (_servers.TryGetValue(server, out Entry? entry))
        {
            entry.LastRequest = now;
        }
    }

    /// <summary>Whether the server may be picked now (not in a failure back-off, not being stopped).</summary>
    public bool IsAvailable(string server, DateTimeOffset now) => _servers[server] is var entry && entry.NotBefore <= now && entry.Lifecycle != ServerLifecycleState.Stopping;

    /// <summary>An action on the server completed: its failure count starts again.</summary>
    public void Succeeded(string server)
    {
        Entry entry = _servers[server];
        entry.Failures = 0;
        entry.Unsettled = false;
    }

    /// <summary>
    /// An action on the server failed: it is set to <paramref name="role"/> and kept out of the picks for
    /// <paramref name="firstBackoff"/>, doubled on each further failure up to 10 minutes. Returns the back-off.
    /// </summary>
    public TimeSpan Failed(string server, ServerRole role, TimeSpan firstBackoff)
    {
        Entry entry = _servers[server];
        entry.Failures++;
        TimeSpan backoff = Backoff.Exponential(firstBackoff, entry.Failures, MaxFailureBackoff);
        Set(server, role);
        entry.Unsettled = true; // some of its commands may have been carried out
        entry.NotBefore = _time.GetUtcNow() + backoff;
        return backoff;
    }

    private sealed class Entry(ServerOptions options, DateTimeOffset now)
    {
        public ServerOptions Options { get; } = options;

        public ServerRole Role { get; set; } = options.AlwaysUp ? ServerRole.Active : ServerRole.Parked;

        public ServerLifecycleState Lifecycle { get; set; } = options.AlwaysUp ? ServerLifecycleState.Active : ServerLifecycleState.Parked;

        public DateTimeOffset LifecycleSince { get; set; } = now;

        public string? Address { get; set; }

        public DateTimeOffset ActiveSince { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset NotBefore { get; set; } = DateTimeOffset.MinValue;

        public int Failures { get; set; }

        public int Sessions { get; set; } = -1;

        public DateTimeOffset LastRequest { get; set; } = DateTimeOffset.MinValue;

        public bool Unsettled { get; set; }
    }
}

/// <summary>Doubling delays: the one formula behind warm-up retries and failure back-offs.</summary>
internal static class Backoff
{
    /// <summary><paramref name="first"/> × 2^(attempt − 1), at most <paramref name="max"/> (no overflow).</summary>
    public static TimeSpan Exponential(TimeSpan first, int attempt, TimeSpan max)
    {
        int doublings = Math.Clamp(attempt - 1, 0, 20);
        return first.Ticks > max.Ticks >> doublings ? max : TimeSpan.FromTicks(first.Ticks << doublings);
    }
}
