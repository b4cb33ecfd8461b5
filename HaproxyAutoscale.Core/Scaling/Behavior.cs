using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scheduling;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The engine's per-direction behaviour (<c>behavior.up</c>/<c>behavior.down</c>), applied to every policy's decision
/// after the bounds: stabilization (up to the lowest desired count of the period, down to the highest), tolerance,
/// cooldown from the last completed action, and the step limit. It keeps the policy's recommendations, never the
/// policy's state: a decision it holds back is reported to the policy (<see cref="IScalingPolicyFeedback"/>), so the
/// policy's own cooldown or breach count does not move.
/// </summary>
internal sealed class BehaviorGate(ScalingBehaviorOptions options)
{
    private readonly Queue<(DateTimeOffset Time, int Desired)> _recommendations = new();
    private readonly TimeSpan _longest = options.Up.Stabilization > options.Down.Stabilization ? options.Up.Stabilization : options.Down.Stabilization;

    /// <summary>The decision as the behaviour allows it, and the gate that held it back (or <see langword="null"/>).</summary>
    public (ScalingDecision Decision, HoldGate? Gate) Apply(ScalingDecision decision, in ScalingContext context, ServerTable servers)
    {
        int active = context.ActiveServers;
        int desired = decision.Action switch
        {
            ScalingAction.Up => active + decision.Servers,
            ScalingAction.Down => active - decision.Servers,
            _ => active,
        };
        DateTimeOffset now = context.Now;
        Remember(now, desired);
        if (decision.Action == ScalingAction.Hold)
        {
            return (decision, null);
        }

        bool up = decision.Action == ScalingAction.Up;
        ScalingDirectionOptions rules = up ? options.Up : options.Down;
        string direction = up ? "up" : "down";
        if (rules.Stabilization > TimeSpan.Zero)
        {
            // Up only as far as every recommendation of the period asked; down only as far as none asked for more.
            int stabilized = Stabilized(now - rules.Stabilization, up);
            if (up ? stabilized <= active : stabilized >= active)
            {
                return Held(decision, HoldGate.Stabilization, string.Create(CultureInfo.InvariantCulture, $"the {direction} stabilization ({Durations.Format(rules.Stabilization)}) holds it at {Math.Max(stabilized, active)}"));
            }

            desired = stabilized;
        }

        if (rules.Tolerance > 0 && active > 0 && Math.Abs(desired - active) <= rules.Tolerance * active)
        {
            return Held(decision, HoldGate.Tolerance, string.Create(CultureInfo.InvariantCulture, $"{desired} is within the {direction} tolerance ({rules.Tolerance:0.##}) of {active} active"));
        }

        if (rules.Cooldown > TimeSpan.Zero)
        {
            // A running action has not completed: its cooldown has not even started.
            if (Busy(servers, up) is { } busy)
            {
                return Held(decision, HoldGate.Cooldown, $"in {direction} cooldown: {busy}'s action has not completed");
            }

            DateTimeOffset? last = up ? servers.LastUpCompleted : Latest(servers.LastUpCompleted, servers.LastDownCompleted);
            if (last is { } completed && now - completed < rules.Cooldown)
            {
                return Held(decision, HoldGate.Cooldown, $"in {direction} cooldown until {completed + rules.Cooldown:HH:mm:ss}");
            }
        }

        int step = Math.Abs(desired - active);
        if (rules.MaxStep is { } max)
        {
            step = Math.Min(step, max);
        }

        return (decision with { Servers = step }, null);
    }

    /// <summary>Checks a backend's behaviour and schedule, each problem with its configuration path.</summary>
    public static void Validate(BackendOptions backend, string path, Action<string, string> addError)
    {
        if (backend.Behavior is null || backend.Schedule is null)
        {
            return;
        }

        Direction(backend.Behavior.Up, $"{path}.behavior.up", addError);
        Direction(backend.Behavior.Down, $"{path}.behavior.down", addError);
        if (backend.Behavior.Up.MinIdleBeforePark != TimeSpan.Zero)
        {
            addError($"{path}.behavior.up.minIdleBeforePark", "applies to scale-down only (behavior.down.minIdleBeforePark)");
        }

        for (int i = 0; i < backend.Schedule.Count; i++)
        {
            string entryPath = $"{path}.schedule[{i.ToString(CultureInfo.InvariantCulture)}]";
            if (backend.Schedule[i] is not { } entry)
            {
                addError(entryPath, "no schedule entry (null)");
                continue;
            }

            ScheduledFloors.Validate(entry, entryPath, addError);
            if (backend.Servers.Count > 0 && entry.MinActive > backend.Servers.Count)
            {
                addError($"{entryPath}.minActive", $"{entry.MinActive} is more than the {backend.Servers.Count} configured servers");
            }
        }
    }

    private static void Direction(ScalingDirectionOptions rules, string path, Action<string, string> addError)
    {
        if (!(rules.Tolerance >= 0) || !double.IsFinite(rules.Tolerance))
        {
            addError($"{path}.tolerance", "must be a number ≥ 0");
        }

        if (rules.Cooldown < TimeSpan.Zero)
        {
            addError($"{path}.cooldown", "must not be negative");
        }

        if (rules.Stabilization < TimeSpan.Zero)
        {
            addError($"{path}.stabilization", "must not be negative");
        }

        if (rules.MaxStep is < 1)
        {
            addError($"{path}.maxStep", $"must be at least 1, not {rules.MaxStep.Value.ToString(CultureInfo.InvariantCulture)}");
        }

        if (rules.MinIdleBeforePark < TimeSpan.Zero)
        {
            addError($"{path}.minIdleBeforePark", "must not be negative");
        }
    }

    // The lambdas live here, not in Apply: a closure there would be made at every evaluation, a hold's too.
    private int Stabilized(DateTimeOffset since, bool up)
    {
        IEnumerable<int> period = _recommendations.Where(r => r.Time >= since).Select(r => r.Desired);
        return up ? period.Min() : period.Max();
    }

    private static string? Busy(ServerTable servers, bool up) =>
        servers.Roles.FirstOrDefault(r => r.Role == ServerRole.Warming || (!up && r.Role == ServerRole.Draining)).Server;

    private static (ScalingDecision, HoldGate?) Held(ScalingDecision decision, HoldGate gate, string why) =>
        (ScalingDecision.Hold($"{decision.Reason}, but {why}"), gate);

    private void Remember(DateTimeOffset now, int desired)
    {
        if (_longest <= TimeSpan.Zero)
        {
            return;
        }

        _recommendations.Enqueue((now, desired));
        while (_recommendations.Peek().Time < now - _longest)
        {
            _recommendations.Dequeue();
        }
    }

    internal static DateTimeOffset? Latest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}
