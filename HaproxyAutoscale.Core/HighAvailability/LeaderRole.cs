using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.HighAvailability;

/// <summary>
/// The engine's side of active/standby. The replica acts only once it has taken over: the election says it leads and
/// it has reconciled with HAProxy under that leadership (epoch). Until then, and as soon as the election says it does
/// not lead any more, it is a standby: its plans are logged and counted as standby decisions and held (a step of the
/// evaluation, so the policy hears that its decision was not carried out, as under a pause). Every command
/// that changes HAProxy is checked again by <see cref="LeaderOnlyHaproxyControl"/> right before it is sent.
/// </summary>
internal sealed partial class LeaderRole : IPlanStep
{
    private readonly ILeaderElection _election;
    private readonly ILogger _logger;
    private readonly Counter<long> _standbyDecisions;
    private readonly ConcurrentDictionary<string, string> _lastShadow = new(StringComparer.Ordinal); // a large pass shades backends in parallel
    private long _actingEpoch;
    private bool _announced;

    public LeaderRole(ILeaderElection election, ILogger logger, Meter meter)
    {
        _election = election;
        _logger = logger;
        meter.CreateObservableGauge("leader", () => IsActing ? 1 : 0, "1", "1 while this replica leads its active/standby election and acts, 0 while it stands by.");
        _standbyDecisions = meter.CreateCounter<long>("standby_decisions", "{decision}", "Up and down decisions a standby replica made and did not act on (tags: backend, action).");
    }

    /// <summary>Whether this replica took over and acts (the election's lease is checked again before each command).</summary>
    public bool IsActing => Interlocked.Read(ref _actingEpoch) != 0;

    public ILeaderElection Election => _election;

    /// <summary>Wraps each instance so that commands that change HAProxy go out only while this replica leads.</summary>
    public (IHaproxyControl Control, IReadOnlyList<IHaproxyControl> Instances) Wrap(IHaproxyControl control) =>
        DryRunHaproxyControl.PerInstance(control, i => new LeaderOnlyHaproxyControl(i, _election, _logger));

    /// <summary>
    /// Follows the election (call before each evaluation): on a new leadership, runs <paramref name="takeOver"/>
    /// (reconcile with HAProxy, restart the refill rule) before acting; on a lost one, stands by.
    /// </summary>
    public async Task UpdateAsync(Func<CancellationToken, Task> takeOver, CancellationToken cancellationToken)
    {
        LeadershipState state = _election.Current;
        long acting = Interlocked.Read(ref _actingEpoch);
        if (state.IsLeader && state.Epoch != acting)
        {
            Interlocked.Exchange(ref _actingEpoch, 0);
            Log.LeadershipGained(_logger, state.Epoch, _election.Description);
            await takeOver(cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _actingEpoch, state.Epoch);
            _announced = true;
        }
        else if (!state.IsLeader && (acting != 0 || !_announced))
        {
            Interlocked.Exchange(ref _actingEpoch, 0);
            Log.StandingBy(_logger, _election.Description, state.Detail);
            _announced = true;
        }
    }

    /// <summary>The plan as this replica may act on it: as it is while it acts; a standby's is shadowed.</summary>
    public ScalingPlan Apply(ScaledBackend backend, ScalingPlan plan) => IsActing ? plan : Shadow(plan);

    /// <summary>A standby's plan: logged (once while it stays the same) and counted, then held.</summary>
    private ScalingPlan Shadow(ScalingPlan plan)
    {
        if (plan.Decision.Action == ScalingAction.Hold)
        {
            _lastShadow.TryRemove(plan.Backend, out _);
            return plan;
        }

        string action = plan.Decision.Action == ScalingAction.Up ? "up" : "down";
        string servers = string.Join(", ", plan.Servers);
        _standbyDecisions.Add(1, AutoscaleMetrics.Tags(plan.Backend, action));
        if (!_lastShadow.TryGetValue(plan.Backend, out string? last) || last != action + servers)
        {
            _lastShadow[plan.Backend] = action + servers;
            Log.StandbyDecision(_logger, plan.Backend, action, servers, plan.Decision.Reason, Scaling.Log.Value(plan.Window));
        }

        return plan.HeldByRule(HoldGate.Standby, "this replica is a standby (the leader acts)");
    }

    private static partial class Log
    {
        [LoggerMessage(AutoscaleEventIds.LeadershipGained, LogLevel.Warning, "Leader (epoch {Epoch}) of {Election}: reconciling with HAProxy before acting; no scale-down until the windows have refilled")]
        public static partial void LeadershipGained(ILogger logger, long epoch, string election);

        [LoggerMessage(AutoscaleEventIds.StandingBy, LogLevel.Warning, "Standby in {Election}: {Reason}; decisions are logged, not acted on")]
        public static partial void StandingBy(ILogger logger, string election, string reason);

        [LoggerMessage(AutoscaleEventIds.StandbyDecision, LogLevel.Information, "{Backend}: standby decided {Action} {Server}: {Reason} (window {Window}); not acted on")]
        public static partial void StandbyDecision(ILogger logger, string backend, string action, string server, string reason, string window);
    }
}
