using System.Globalization;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Simulation;

/// <summary>The settings <see cref="Tuner"/> tries: per built-in policy, values relative to the SLO, the rest around the defaults.</summary>
internal static class TunerGrid
{
    /// <summary>The grid of <paramref name="policy"/> for an SLO of <paramref name="sloMs"/>.</summary>
    /// <exception cref="ArgumentException">The policy is not a built-in one.</exception>
    public static IEnumerable<(Dictionary<string, string> Settings, WindowOptions Window)> Of(string policy, double sloMs)
    {
        IEnumerable<WindowOptions> windows =
            from size in new[] { 5, 15, 50 }
            from statistic in new[] { WindowStatistic.Mean, WindowStatistic.P95 }
            select new WindowOptions { Kind = WindowKinds.Count, Size = size, Statistic = statistic };
        string Ms(double fraction) => (fraction * sloMs).ToString("0.#", CultureInfo.InvariantCulture);
        return policy.ToLowerInvariant() switch
        {
            ScalingPolicyNames.Threshold =>
                from window in windows
                from threshold in new[] { 0.4, 0.6, 0.8, 1.0 }
                from breaches in new[] { "1", "2", "3" }
                from idle in new[] { "1m", "5m" }
                select (new Dictionary<string, string> { ["thresholdMs"] = Ms(threshold), ["breaches"] = breaches, ["idleScaleDown"] = idle }, window),
            ScalingPolicyNames.Band =>
                from window in windows
                from upper in new[] { 0.6, 0.8, 1.0 }
                from lower in new[] { 0.2, 0.4 }
                from breaches in new[] { "1", "3" }
                from stabilization in new[] { "1m", "5m" }
                select (new Dictionary<string, string> { ["upperMs"] = Ms(upper), ["lowerMs"] = Ms(lower), ["breaches"] = breaches, ["stabilization"] = stabilization }, window),
            ScalingPolicyNames.Target =>
                from window in windows
                from target in new[] { 0.3, 0.5, 0.7, 0.9 }
                from stabilization in new[] { "60s", "300s" }
                from maxStep in new[] { "1", "2" }
                select (new Dictionary<string, string> { ["targetMs"] = Ms(target), ["scaleDownStabilization"] = stabilization, ["maxStep"] = maxStep }, window),
            // Concurrency ignores the window (it reads in-flight), so one window; targets around a server's workers.
            // An explicit target sizes by in-flight: said, so the recommendation reads the same whatever the default.
            ScalingPolicyNames.Concurrency =>
                from target in new[] { "1", "1.5", "2", "3", "4", "6", "8", "12" }
                from stable in new[] { "30s", "60s" }
                from stabilization in new[] { "30s", "60s", "300s" }
                from panic in new[] { "2", "3" }
                select (new Dictionary<string, string>
                {
                    ["targetInFlight"] = target, ["sizing"] = "in-flight", ["stableWindow"] = stable, ["scaleDownStabilization"] = stabilization, ["panicThreshold"] = panic,
                }, new WindowOptions { Kind = WindowKinds.Count, Size = 15, Statistic = WindowStatistic.Mean }),
            _ => throw new ArgumentException($"the '{policy}' policy cannot be tuned: only the built-in threshold, band, target and concurrency can", nameof(policy)),
        };
    }

    /// <summary>
    /// The backend SLOs (<c>slo.p95</c>) the learned sizing is tried with: the tuning SLO itself, and twice and 1.5
    /// times the service time's p95 (the model's) when tighter than it, in whole milliseconds, loosest first.
    /// </summary>
    /// <remarks>
    /// The learned capacity per server is the rate at which the p95 stays within the backend's SLO, and a burst is
    /// sized by the last panic window's mean: sizing at the tuning SLO itself leaves no room for that lag, tighter
    /// SLOs buy room in proportion to the app's own speed (twice its p95 is the default's rule: queueing may at most
    /// double a request's time). At 1× no server meets it and the sizing falls back to half the workers busy, always
    /// dearer than 1.5×: not tried.
    /// </remarks>
    public static IEnumerable<TimeSpan> SloVariants(double sloMs, BackendModel model)
    {
        double p95 = model.SampleServiceMs(0.95);
        var variants = new SortedSet<int>(Comparer<int>.Create((a, b) => b.CompareTo(a))) { (int)Math.Round(sloMs) };
        foreach (double factor in new[] { 2, 1.5 })
        {
            int ms = (int)Math.Round(factor * p95);
            if (ms < sloMs && ms > p95)
            {
                variants.Add(ms);
            }
        }

        return variants.Select(ms => TimeSpan.FromMilliseconds(ms));
    }
}
