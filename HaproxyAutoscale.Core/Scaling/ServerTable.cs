using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Every configured server of one backend and its lifecycle state (its role is derived from it): written by the
/// actuator (and the reconciler, from HAProxy's state), read by the decider. Not thread-safe: callers hold the
/// backend's lock.
/// </summary>
internal sealed partial class ServerTable
{
    private static readonly TimeSpan MaxFailureBackoff = TimeSpan.FromMinutes(10);

    private readonly Entries _servers;
    private readonly TimeProvider _time;
    private Entry[] _configured; // the configured servers' entries in configuration order (read every evaluation)
    private DateTimeOffset _lastEnabled = DateTimeOffset.MinValue; // the latest ActiveSince of any server
    private TimeSpan _settleTime; // the backend's, read per line: kept here, not in the options' object
    private (long At, int Active, int Capacity) _counted = (-1, 0, 0); // the roles counted at Changes = At

    public ServerTable(BackendOptions backend, TimeProvider time)
    {
        Backend = backend;
        _time = time;
        _servers = new Entries(backend.Servers.Select(s => new Entry(s, time.GetUtcNow())));
        foreach (Entry entry in _servers.Values)
        {
            if (StartsStopped(backend, entry.Options))
            {
                entry.State = ServerLifecycleState.Stopped;
            }
        }

        _configured = InOrder();
        _settleTime = backend.SettleTime;
    }

    // A pool slot is not in HAProxy until started and added. A parked server of a backend with a provider counts as
    // stopped until its provider says it runs (KeepWarm.AdoptProcessesAsync): a scale-up before that starts it first.
    private static bool StartsStopped(BackendOptions backend, ServerOptions server) =>
        Providers.PoolSlots.IsSlot(backend, server.Name) || (backend.Provider is not null && !server.AlwaysUp);

    public BackendOptions Backend { get; private set; }

    /// <summary>Each configured server and its role, in configuration order.</summary>
    public IEnumerable<(string Server, ServerRole Role)> Roles => _configured.Select(e => (e.Options.Name, e.Role));

    /// <summary>Each configured server as reported in a snapshot, in configuration order.</summary>
    public IEnumerable<ServerSnapshot> Snapshot => _configured.Select(e => e.Snapshot());

    /// <summary>Servers taking traffic or warming up: warming counts as capacity.</summary>
    public int Capacity => Counted().Capacity;

    /// <summary>Servers taking traffic (active).</summary>
    public int ActiveCount => Counted().Active;

    // Asked every evaluation of every backend: counted again only after a change, so that the evaluation of a backend
    // whose servers stayed as they were does not read every server's entry (at 10,000 backends, each is a cache miss).
    private (int Active, int Capacity) Counted()
    {
        if (_counted.At != Changes)
        {
            (int active, int warming) = (0, 0);
            foreach (Entry entry in _configured)
            {
                ServerRole role = entry.Role;
                active += role == ServerRole.Active ? 1 : 0;
                warming += role == ServerRole.Warming ? 1 : 0;
            }

            _counted = (Changes, active, active + warming);
        }

        return (_counted.Active, _counted.Capacity);
    }

    public bool Contains(string server) => _servers.ContainsKey(server);

    public ServerRole RoleOf(string server) => _servers[server].Role;

    /// <summary>The server's lifecycle state.</summary>
    public ServerLifecycleState StateOf(string server) => _servers[server].State;

    /// <summary>Counts every change of a state: a reading of HAProxy taken before a change must not overwrite it.</summary>
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
    /// Sets where a server is in its life. <paramref name="justEnabled"/>: on becoming active, it starts serving now
    /// (settle time applies), as opposed to adopted as already serving.
    /// </summary>
    public void Set(string server, ServerLifecycleState state, bool justEnabled = true)
    {
        Entry entry = _servers[server];
        ServerRole was = entry.Role, role = ServerStates.RoleOf(state);
        if (role == ServerRole.Active && was != ServerRole.Active)
        {
            entry.ActiveSince = justEnabled ? _time.GetUtcNow() : DateTimeOffset.MinValue;
            _lastEnabled = entry.ActiveSince > _lastEnabled ? entry.ActiveSince : _lastEnabled;
        }

        // An action completes when its server reaches the role it was claimed for.
        if (was == ServerRole.Warming && role == ServerRole.Active)
        {
            LastUpCompleted = _time.GetUtcNow();
        }
        else if (was == ServerRole.Draining && role == ServerRole.Parked)
        {
            LastDownCompleted = _time.GetUtcNow();
        }

        if (entry.State != state)
        {
            entry.State = state;
            entry.StateSince = _time.GetUtcNow();
        }

        Changes++;
    }

    /// <summary>When the server entered its lifecycle state (a parked server: since when it is kept warm).</summary>
    public DateTimeOffset StateSince(string server) => _servers[server].StateSince;

    /// <summary>The address a provider gave the server (pool servers: where HAProxy sends it traffic), or <see langword="null"/>.</summary>
    public string? AddressOf(string server) => _servers[server].Address;

    public void SetAddress(string server, string? address) => _servers[server].Address = address;

    /// <summary>Makes a parked server due for its stop at once (its state is unknown, or its stop failed): no keep-warm wait.</summary>
    public void StopDue(string server) => _servers[server].StateSince = DateTimeOffset.MinValue;

    /// <summary>Whether <paramref name="server"/> started serving less than the settle time ago (its first answers are slow).</summary>
    public bool IsSettling(string server, DateTimeOffset now) =>
        now - _lastEnabled < _settleTime // asked per log line: no lookup once the last server enabled has settled
        && _servers.TryGetValue(server, out Entry? entry) && entry.Role == ServerRole.Active && now - entry.ActiveSince < _settleTime;

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
    public bool IsAvailable(string server, DateTimeOffset now) =>
        _servers[server] is var entry && entry.NotBefore <= now && entry.State != ServerLifecycleState.Stopping && !entry.Unadopted;

    /// <summary>The table's own string for the server <paramref name="server"/> names, or <see langword="null"/> when it has none.</summary>
    public string? NameOf(ReadOnlySpan<char> server) => _servers.NameOf(server);

    /// <summary>Whether the server came with a reload and its state is not yet adopted from HAProxy's (it is not picked until then).</summary>
    public bool IsUnadopted(string server) => _servers[server].Unadopted;

    /// <summary>Every server of the table is to be adopted from HAProxy's state by the next reconcile (a backend added by a reload).</summary>
    public void Unadopt()
    {
        foreach (Entry entry in _servers.Values)
        {
            entry.Unadopted = true;
        }
    }

    /// <summary>The reconciler adopted HAProxy's state for the server (or found it missing there): it may be picked.</summary>
    public void Adopted(string server) => _servers[server].Unadopted = false;

    /// <summary>
    /// A reload changed the backend: servers that stay keep everything (lifecycle, address, back-off, sessions); new
    /// ones wait for the next reconcile to adopt HAProxy's state; removed ones are kept out of sight (an action still
    /// running on one completes on its entry) and never acted on again.
    /// </summary>
    public void Reconfigure(BackendOptions backend)
    {
        Backend = backend;
        _settleTime = backend.SettleTime;
        foreach (ServerOptions server in backend.Servers)
        {
            if (_servers.TryGetValue(server.Name, out Entry? entry))
            {
                entry.Options = server; // weight, warm-up URL, alwaysUp as configured now
                continue;
            }

            _servers.Add(new Entry(server, _time.GetUtcNow())
            {
                State = StartsStopped(backend, server) ? ServerLifecycleState.Stopped : ServerLifecycleState.Parked,
                Unadopted = true,
            });
        }

        _configured = InOrder();
        Changes++; // a reading of HAProxy taken before the reload is not used
    }

    private Entry[] InOrder() => [.. Backend.Servers.Select(s => _servers[s.Name])];

    /// <summary>An action on the server completed: its failure count starts again.</summary>
    public void Succeeded(string server)
    {
        Entry entry = _servers[server];
        entry.Failures = 0;
        entry.Unsettled = false;
    }

    /// <summary>
    /// An action on the server failed: it is set to <paramref name="state"/> and kept out of the picks for
    /// <paramref name="firstBackoff"/>, doubled on each further failure up to 10 minutes. Returns the back-off.
    /// </summary>
    public TimeSpan Failed(string server, ServerLifecycleState state, TimeSpan firstBackoff)
    {
        Entry entry = _servers[server];
        entry.Failures++;
        TimeSpan backoff = Backoff.Exponential(firstBackoff, entry.Failures, MaxFailureBackoff);
        Set(server, state);
        entry.Unsettled = true; // some of its commands may have been carried out
        entry.NotBefore = _time.GetUtcNow() + backoff;
        return backoff;
    }
}
