using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
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

/// <summary>One evaluation's outcome for a backend: the decision and the servers it names.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Time">When it was decided.</param>
/// <param name="Decision">The policy's decision, within bounds.</param>
/// <param name="Servers">The servers to enable (up) or drain (down); empty for hold.</param>
/// <param name="Window">The window's value at the decision.</param>
/// <param name="HasFreshData">Whether the window had new samples since the previous evaluation.</param>
public sealed record ScalingPlan(string Backend, DateTimeOffset Time, ScalingDecision Decision, IReadOnlyList<string> Servers, WindowValue Window, bool HasFreshData);

/// <summary>
/// One backend's pipeline: records feed its window, an evaluation asks its policy and picks the servers. It holds
/// the autoscaler's belief about each configured server; the engine (or replay) updates it as actions complete.
/// Not thread-safe: one loop per backend.
/// </summary>
internal sealed class BackendScaler
{
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Dictionary<string, ServerRuntime> _servers;
    private bool _saturated;
    private int _newSamples;

    public BackendScaler(BackendOptions options, IScalingPolicy policy, TimeProvider time, Random? random = null)
    {
        Options = options;
        Policy = policy;
        _time = time;
        _random = random ?? Random.Shared;
        Window = ResponseTimeWindows.Create(options.Window, time);
        Started = time.GetUtcNow();
        _servers = options.Servers.ToDictionary(s => s.Name, s => new ServerRuntime(s), StringComparer.Ordinal);
    }

    public BackendOptions Options { get; }

    public IScalingPolicy Policy { get; }

    public IResponseTimeWindow Window { get; }

    public DateTimeOffset Started { get; }

    public DateTimeOffset? LastRequest { get; private set; }

    /// <summary>Whether a server that serves traffic while believed parked is taken as active (the original's rule).</summary>
    public bool AdoptServersSeenInLogs { get; init; } = true;

    public IEnumerable<(string Server, ServerRole Role)> Roles => Options.Servers.Select(s => (s.Name, _servers[s.Name].Role));

    public int ActiveServers => _servers.Values.Count(s => s.Role is ServerRole.Active or ServerRole.Warming);

    public ServerRole RoleOf(string server) => _servers[server].Role;

    /// <summary>Keeps a server out of scale-ups until <paramref name="notBefore"/> (after a failed warm-up or enable).</summary>
    public void BackOff(string server, DateTimeOffset notBefore) => _servers[server].NotBefore = notBefore;

    /// <summary>Sets what a server is. <paramref name="justEnabled"/>: it starts serving now (settle time applies), as opposed to adopted as already serving.</summary>
    public void SetRole(string server, ServerRole role, bool justEnabled = true)
    {
        ServerRuntime runtime = _servers[server];
        if (role == ServerRole.Active && runtime.Role != ServerRole.Active)
        {
            runtime.ActiveSince = justEnabled ? _time.GetUtcNow() : DateTimeOffset.MinValue;
        }

        runtime.Role = role;
    }

    public void OnRecord(in RequestRecord record)
    {
        DateTimeOffset now = _time.GetUtcNow();
        LastRequest = now;
        if ((record.HasNoServer && record.StatusCode == 503) || record.QueueTime > 0)
        {
            _saturated = true;
        }

        if (record.HasNoServer)
        {
            return;
        }

        if (_servers.TryGetValue(record.Server, out ServerRuntime? server))
        {
            if (server.Role == ServerRole.Parked && AdoptServersSeenInLogs)
            {
                SetRole(record.Server, ServerRole.Active, justEnabled: false);
            }

            // A server that just came up answers slowly at first: its samples would trigger another scale-up.
            if (now - server.ActiveSince < Options.SettleTime)
            {
                return;
            }
        }

        int sample = ResponseTimeWindows.SampleOf(record, Options.Window.Timer);
        if (sample >= 0)
        {
            Window.Add(sample);
            _newSamples++;
        }
    }

    public ScalingPlan Evaluate()
    {
        DateTimeOffset now = _time.GetUtcNow();
        WindowValue window = Window.Evaluate();
        var context = new ScalingContext(Options.Name, now, window, ActiveServers, Options.EffectiveMinActive, Options.EffectiveMaxActive, _saturated, LastRequest, Started, _newSamples);
        _saturated = false;
        _newSamples = 0;
        ScalingDecision decision = Policy.Decide(context).WithinBounds(context);
        if (decision.Action == ScalingAction.Up && Settling(now) is { } settling)
        {
            // The capacity just added is not serving yet (or its effect is not in the window yet): the breach that
            // called for it must not call for another server.
            decision = ScalingDecision.Hold($"{decision.Reason}, but waiting for {settling}");
        }

        IReadOnlyList<string> servers = decision.Action switch
        {
            ScalingAction.Up => Pick(ServerRole.Parked, decision.Servers, first: true, now),
            ScalingAction.Down => Pick(ServerRole.Active, decision.Servers, first: false, now, exceptAlwaysUp: true),
            _ => [],
        };

        if (servers.Count == 0 && decision.Action != ScalingAction.Hold)
        {
            decision = ScalingDecision.Hold($"{decision.Reason}, but no server can move");
        }

        return new ScalingPlan(Options.Name, now, decision, servers, window, context.HasFreshData);
    }

    private string? Settling(DateTimeOffset now)
    {
        foreach (ServerOptions server in Options.Servers)
        {
            ServerRuntime runtime = _servers[server.Name];
            if (runtime.Role == ServerRole.Warming)
            {
                return $"{server.Name} to warm up";
            }

            if (runtime.Role == ServerRole.Active && now - runtime.ActiveSince < Options.SettleTime)
            {
                return $"{server.Name} to settle";
            }
        }

        return null;
    }

    // Ordered: the first parked server in configuration order goes up, the last active one goes down.
    private List<string> Pick(ServerRole role, int count, bool first, DateTimeOffset now, bool exceptAlwaysUp = false)
    {
        List<string> candidates = [.. Options.Servers
            .Where(s => _servers[s.Name] is var runtime && runtime.Role == role && runtime.NotBefore <= now && !(exceptAlwaysUp && s.AlwaysUp))
            .Select(s => s.Name)];
        if (Options.Selection == ServerSelection.Random)
        {
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
        }
        else if (!first)
        {
            candidates.Reverse();
        }

        return candidates.Take(count).ToList();
    }

    private sealed class ServerRuntime(ServerOptions options)
    {
        public ServerRole Role { get; set; } = options.AlwaysUp ? ServerRole.Active : ServerRole.Parked;

        public DateTimeOffset ActiveSince { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset NotBefore { get; set; } = DateTimeOffset.MinValue;
    }
}
