using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>
/// The events one evaluation of a backend logs (one of them each time, Debug included): a positive marker that the
/// engine ran again after a moment of interest, where a test would otherwise sleep to show that nothing happened.
/// </summary>
internal static class EvaluationEvents
{
    public static readonly int[] Ids = [AutoscaleEventIds.Decision, AutoscaleEventIds.Hold, AutoscaleEventIds.HeldBack, AutoscaleEventIds.HeldByGate, AutoscaleEventIds.StandbyDecision];

    /// <summary>Evaluations logged in <paramref name="entries"/> after the first entry that matches <paramref name="moment"/>.</summary>
    public static int After(IEnumerable<(Microsoft.Extensions.Logging.LogLevel Level, int EventId, string Message)> entries, Func<(Microsoft.Extensions.Logging.LogLevel Level, int EventId, string Message), bool> moment) =>
        entries.SkipWhile(e => !moment(e)).Skip(1).Count(e => Ids.Contains(e.EventId));
}
