using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Scaling;

/// <summary>One up or down decision of a replay.</summary>
/// <param name="Time">The log time of the decision (the clock is the lines' accept dates).</param>
/// <param name="Backend">The backend.</param>
/// <param name="Action">Up or down.</param>
/// <param name="Server">The server enabled or drained.</param>
/// <param name="Reason">The policy's reason.</param>
/// <param name="Value">The window value, or null without samples.</param>
internal sealed record ReplayDecision(DateTime Time, string Backend, ScalingAction Action, string Server, string Reason, double? Value);

/// <summary>Per-backend totals of a replay.</summary>
internal sealed class ReplayBackendSummary(string backend, double? thresholdMs)
{
    public string Backend { get; } = backend;

    public double? ThresholdMs { get; } = thresholdMs;

    public int Ups { get; set; }

    public int Downs { get; set; }

    public TimeSpan AboveThreshold { get; set; }

    public Dictionary<string, TimeSpan> EnabledTime { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Runs the configured windows and policies over a log, the clock driven by each line's accept date, nothing sent to
/// HAProxy and every action assumed to succeed at once. Evaluations happen every evaluation interval of log time, as
/// in the daemon, so decisions land at the log times they would have happened.
/// </summary>
internal sealed class ReplayRunner
{
    private readonly AutoscaleOptions _options;
    private readonly ScalingPolicyRegistry _policies;
    private readonly ReplayClock _clock = new();
    private readonly HaproxyLogParser _parser = new();
    private readonly Dictionary<string, BackendScaler> _scalers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReplayBackendSummary> _summaries = new(StringComparer.Ordinal);
    private readonly Action<ReplayDecision> _onDecision;
    private DateTimeOffset _nextEvaluation;
    private DateTimeOffset _first;
    private DateTimeOffset _lastAccounted;
    private bool _started;
    // Each line's scaler (null: backend not configured) by the parser's pair id, not by hashing the backend's name.
    private readonly PairIdMap<BackendScaler> _scalerByPairId = new();

    public ReplayRunner(AutoscaleOptions options, ScalingPolicyRegistry policies, Action<ReplayDecision> onDecision)
    {
        _options = options;
        _policies = policies;
        _onDecision = onDecision;
    }

    public long Lines { get; private set; }

    public long Parsed { get; private set; }

    public DateTimeOffset? Start => _started ? _first : null;

    public DateTimeOffset? End => _started ? _clock.GetUtcNow() : null;

    public IEnumerable<ReplayBackendSummary> Summaries => _summaries.Values;

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
        if (ScalerOf(record.Backend) is { } scaler)
        {
            scaler.OnRecord(record);
        }
    }

    private BackendScaler? ScalerOf(string backend)
    {
        if (!_scalerByPairId.TryGet(_parser.LastPairId, out BackendScaler? scaler))
        {
            scaler = _scalers.GetValueOrDefault(backend);
            _scalerByPairId.Set(_parser.LastPairId, scaler);
        }

        return scaler;
    }

    /// <summary>Accounts the enabled time up to the last line.</summary>
    public void Finish()
    {
        if (_started)
        {
            Account(_clock.GetUtcNow());
        }
    }

    private void StartAt(DateTimeOffset time)
    {
        _started = true;
        _first = time;
        _clock.Set(time);
        foreach (BackendOptions backend in _options.Backends)
        {
            var errors = new List<string>();
            var settings = new PolicySettings(backend.PolicyKind, backend.PolicySettings.ToDictionary(), $"backends.{backend.Name}.policy");
            IScalingPolicy policy = _policies.TryCreate(settings, errors) ?? throw new InvalidOperationException(string.Join("; ", errors));
            _scalers[backend.Name] = new BackendScaler(backend, policy, _clock, new Random(0));
            _summaries[backend.Name] = new ReplayBackendSummary(backend.Name, ReferenceThreshold(backend));
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
            foreach (BackendScaler scaler in _scalers.Values)
            {
                Apply(scaler, scaler.Evaluate());
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

    private void Apply(BackendScaler scaler, ScalingPlan plan)
    {
        ReplayBackendSummary summary = _summaries[plan.Backend];
        if (summary.ThresholdMs is { } threshold && plan.HasFreshData && plan.Window.Value > threshold)
        {
            summary.AboveThreshold += _options.EvaluationInterval;
        }

        foreach (string server in plan.Servers)
        {
            bool up = plan.Decision.Action == ScalingAction.Up;
            scaler.SetRole(server, up ? ServerRole.Active : ServerRole.Parked);
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

        foreach (BackendScaler scaler in _scalers.Values)
        {
            ReplayBackendSummary summary = _summaries[scaler.Options.Name];
            foreach (ServerOptions server in scaler.Options.Servers)
            {
                if (scaler.RoleOf(server.Name) == ServerRole.Active)
                {
                    summary.EnabledTime[server.Name] = summary.EnabledTime.GetValueOrDefault(server.Name) + elapsed;
                }
            }
        }

        _lastAccounted = until;
    }

    // The value above which a backend counts as slow, for the summary.
    private static double? ReferenceThreshold(BackendOptions backend)
    {
        string? key = backend.PolicyKind.ToLowerInvariant() switch
        {
            ScalingPolicyNames.Threshold => "thresholdMs",
            ScalingPolicyNames.Band => "upperMs",
            ScalingPolicyNames.Target => "targetMs",
            _ => null,
        };
        if (key is null)
        {
            return null;
        }

        return backend.PolicySettings.TryGetValue(key, out string? text) && double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out double value)
            ? value
            : key == "thresholdMs" ? new ThresholdPolicyOptions().ThresholdMs : null;
    }

    private sealed class ReplayClock : TimeProvider
    {
        private DateTimeOffset _now;

        public void Set(DateTimeOffset now) => _now = now;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
