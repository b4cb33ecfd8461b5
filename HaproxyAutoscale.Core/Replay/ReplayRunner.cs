using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Replay;

/// <summary>One up or down decision of a replay.</summary>
/// <param name="Time">The log time of the decision (the clock is the lines' accept dates).</param>
/// <param name="Backend">The backend.</param>
/// <param name="Action">Up or down.</param>
/// <param name="Server">The server enabled or drained.</param>
/// <param name="Reason">The policy's reason.</param>
/// <param name="Value">The window value, or null without samples.</param>
public sealed record ReplayDecision(DateTime Time, string Backend, ScalingAction Action, string Server, string Reason, double? Value);

/// <summary>Per-backend totals of a replay.</summary>
public sealed class ReplayBackendSummary
{
    internal ReplayBackendSummary(string backend, double? objectiveMs) => (Backend, ObjectiveMs) = (backend, objectiveMs);

    /// <summary>The backend.</summary>
    public string Backend { get; }

    /// <summary>The window value above which the backend counts as slow (the policy's <see cref="ILatencyObjective"/>), if the policy has one.</summary>
    public double? ObjectiveMs { get; }

    /// <summary>Servers enabled.</summary>
    public int Ups { get; internal set; }

    /// <summary>Servers drained.</summary>
    public int Downs { get; internal set; }

    /// <summary>Evaluated time during which the window had fresh samples above <see cref="ObjectiveMs"/>.</summary>
    public TimeSpan AboveObjective { get; internal set; }

    /// <summary>Per server, how long it was enabled.</summary>
    public IReadOnlyDictionary<string, TimeSpan> EnabledTime => _enabledTime;

    private readonly Dictionary<string, TimeSpan> _enabledTime = new(StringComparer.Ordinal);

    internal void AddEnabled(string server, TimeSpan time) => _enabledTime[server] = _enabledTime.GetValueOrDefault(server) + time;

    /// <summary>Per gate (<c>cooldown</c>, <c>stabilization</c>, <c>bounds</c>…), the evaluations whose decision a rule of the engine held back.</summary>
    public IReadOnlyDictionary<string, int> HeldBy => _heldBy;

    private readonly SortedDictionary<string, int> _heldBy = new(StringComparer.Ordinal);

    internal void AddHeld(string gate) => _heldBy[gate] = _heldBy.GetValueOrDefault(gate) + 1;
}

/// <summary>
/// Runs the configured windows and policies over a log with the daemon's own decider, the clock driven by each
/// line's accept date: nothing is sent to HAProxy and every action is taken to succeed at once. Evaluations happen
/// every evaluation interval of log time, as in the daemon, so decisions land at the log times they would have
/// happened. A server that serves traffic while believed parked is taken as active (the log shows it was).
/// Feed lines in log order with <see cref="OnLine"/>, then call <see cref="Finish"/>.
/// </summary>
public sealed class ReplayRunner
{
    private readonly AutoscaleOptions _options;
    private readonly ScalingPolicyRegistry _policies;
    private readonly ResponseTimeWindowRegistry _windows;
    private readonly ManualClock _clock = new();
    private readonly HaproxyLogParser _parser = new();
    private readonly Dictionary<string, ScaledBackend> _backends = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReplayBackendSummary> _summaries = new(StringComparer.Ordinal);
    private readonly Action<ReplayDecision> _onDecision;
    // Each line's backend (null: not configured) by the parser's pair id, not by hashing the backend's name.
    private readonly PairIdMap<ScaledBackend> _backendByPairId = new();
    private DateTimeOffset _nextEvaluation;
    private DateTimeOffset _first;
    private DateTimeOffset _lastAccounted;
    private bool _started;

    /// <summary>A replay of <paramref name="options"/>' backends with the built-in windows; <paramref name="onDecision"/> receives each up or down.</summary>
    public ReplayRunner(AutoscaleOptions options, ScalingPolicyRegistry policies, Action<ReplayDecision> onDecision)
        : this(options, policies, new ResponseTimeWindowRegistry(), onDecision)
    {
    }

    /// <summary>A replay of <paramref name="options"/>' backends; <paramref name="onDecision"/> receives each up or down.</summary>
    /// <exception cref="AutoscaleOptionsException">The options break a rule of <see cref="AutoscaleOptionsValidator"/>.</exception>
    public ReplayRunner(AutoscaleOptions options, ScalingPolicyRegistry policies, ResponseTimeWindowRegistry windows, Action<ReplayDecision> onDecision)
    {
        _windows = windows ?? throw new ArgumentNullException(nameof(windows));
        AutoscaleOptionsValidator.ThrowIfInvalid(options ?? throw new ArgumentNullException(nameof(options)), new AutoscaleRegistries { Policies = policies ?? throw new ArgumentNullException(nameof(policies)), Windows = windows });
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _policies = policies ?? throw new ArgumentNullException(nameof(policies));
        _onDecision = onDecision ?? throw new ArgumentNullException(nameof(onDecision));
    }

    /// <summary>Lines read.</summary>
    public long Lines { get; private set; }

    /// <summary>Lines that were request logs.</summary>
    public long Parsed { get; private set; }

    /// <summary>The first request's accept date, once there is one.</summary>
    public DateTimeOffset? Start => _started ? _first : null;

    /// <summary>The replay clock now: the last accept date or evaluation.</summary>
    public DateTimeOffset? End => _started ? _clock.GetUtcNow() : null;

    /// <summary>Per-backend totals, in configuration order.</summary>
    public IEnumerable<ReplayBackendSummary> Summaries => _summaries.Values;

    /// <summary>Feeds one log line (without its terminator).</summary>
    public void OnLine(ReadOnlySpan<byte> line)
    {
        Lines++;
        if (!_parser.TryParse(line, out RequestRecord record))
        {
            return;
        }

        Parsed++;
        var time = new DateTimeOffset(DateTime.SpecifyKind(record.AcceptDate, DateTimeKind.Utc));
        if (!_started)
        {
            StartAt(time);
        }

        AdvanceTo(time);
        if (BackendOf(record.Backend) is { } backend)
        {
            if (!record.HasNoServer && backend.Servers.Contains(record.Server) && backend.Servers.RoleOf(record.Server) == ServerRole.Parked)
            {
                backend.Servers.Set(record.Server, ServerLifecycleState.Active, justEnabled: false);
            }

            backend.Decider.OnRecord(record);
        }
    }

    /// <summary>Accounts the enabled time up to the last line.</summary>
    public void Finish()
    {
        if (_started)
        {
            Account(_clock.GetUtcNow());
        }
    }

    private ScaledBackend? BackendOf(string name)
    {
        if (!_backendByPairId.TryGet(_parser.LastPairId, out ScaledBackend? backend))
        {
            backend = _backends.GetValueOrDefault(name);
            _backendByPairId.Set(_parser.LastPairId, backend);
        }

        return backend;
    }

    private void StartAt(DateTimeOffset time)
    {
        _started = true;
        _first = time;
        _clock.Set(time);
        foreach (BackendOptions options in _options.Backends)
        {
            ScaledBackend backend = ScaledBackend.Create(options, _policies, _windows, _clock, new Random(0));
            _backends[options.Name] = backend;
            _summaries[options.Name] = new ReplayBackendSummary(options.Name, (backend.Decider.Policy as ILatencyObjective)?.ObjectiveMs);
        }

        _lastAccounted = time;
        _nextEvaluation = time + _options.EvaluationInterval;
    }

    // Log lines are written when requests end, stamped when they began: time never goes back for the replay.
    private void AdvanceTo(DateTimeOffset time)
    {
        while (_nextEvaluation <= time)
        {
            Account(_nextEvaluation);
            _clock.Set(_nextEvaluation);
            foreach (ScaledBackend backend in _backends.Values)
            {
                Apply(backend, backend.Decider.Decide());
            }

            _nextEvaluation += _options.EvaluationInterval;
        }

        if (time > _clock.GetUtcNow())
        {
            // Enabled time is accounted at evaluations (and at the end), where roles change; a server adopted
            // from traffic between two evaluations is counted from the next one.
            _clock.Set(time);
        }
    }

    private void Apply(ScaledBackend backend, ScalingPlan plan)
    {
        ReplayBackendSummary summary = _summaries[plan.Backend];
        if (plan.HeldBy is { } gate)
        {
            summary.AddHeld(gate);
        }

        if (summary.ObjectiveMs is { } objective && plan.HasFreshData && plan.Window.Value > objective)
        {
            summary.AboveObjective += _options.EvaluationInterval;
        }

        bool up = plan.Decision.Action == ScalingAction.Up;
        foreach (string server in plan.Servers)
        {
            // Every action succeeds at once: the server goes straight to where the actuator would leave it.
            backend.Servers.Set(server, up ? ServerLifecycleState.Active : ServerLifecycleState.Parked);
            if (up)
            {
                summary.Ups++;
            }
            else
            {
                summary.Downs++;
            }

            _onDecision(new ReplayDecision(plan.Time.UtcDateTime, plan.Backend, plan.Decision.Action, server, plan.Decision.Reason, plan.Window.HasValue ? plan.Window.Value : null));
        }
    }

    // Adds the time since the last accounting to every active server's enabled time.
    private void Account(DateTimeOffset until)
    {
        TimeSpan elapsed = until - _lastAccounted;
        if (elapsed <= TimeSpan.Zero)
        {
            return;
        }

        foreach (ScaledBackend backend in _backends.Values)
        {
            foreach ((string server, ServerRole role) in backend.Servers.Roles)
            {
                if (role == ServerRole.Active)
                {
                    _summaries[backend.Name].AddEnabled(server, elapsed);
                }
            }
        }

        _lastAccounted = until;
    }
}
