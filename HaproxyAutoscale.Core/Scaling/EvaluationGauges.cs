using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// What one evaluation of a backend saw and wanted, for the metrics: the servers wanted within the bounds (before
/// cooldowns and the other rules that pace a change), the bounds (a scheduled floor included) and the in-flight requests.
/// </summary>
/// <param name="Desired">The active servers the decision within bounds leads to: active ± the servers it moves.</param>
/// <param name="MinActive">The lower bound (<c>minActive</c>, raised by a scheduled floor).</param>
/// <param name="MaxActive">The upper bound (<c>maxActive</c>).</param>
/// <param name="InFlight">Requests in flight the evaluation saw, or <see langword="null"/>.</param>
internal readonly record struct EvaluationGauges(int Desired, int MinActive, int MaxActive, double? InFlight)
{
    public static EvaluationGauges Of(in ScalingContext context, ScalingDecision decision) => new(
        context.ActiveServers + decision.Action switch
        {
            ScalingAction.Up => decision.Servers,
            ScalingAction.Down => -decision.Servers,
            _ => 0,
        },
        context.MinActive, context.MaxActive, context.InFlight);

    /// <summary>A hold the policy was not asked for (blind, a failed policy): as many servers as now.</summary>
    public static EvaluationGauges Holding(in ScalingContext context) => Of(context, ScalingDecision.Hold(""));
}
