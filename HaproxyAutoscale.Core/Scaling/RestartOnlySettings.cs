using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The settings a reload cannot change in a running autoscaler: what it connected to or started once. A reload names
/// the ones that changed (they need a restart) and keeps running with their current values; the rest applies.
/// </summary>
internal static class RestartOnlySettings
{
    // haproxy.*: the Runtime API connections are made once. warmup.*: the HTTP warm-up and the failure back-off are
    // made once. reconcileInterval, counterInterval: the loops run on them from the start. ha: the election runs for
    // the process's life. stateDirectory: what was learned is read from it at start. logs.sampleRatio, logs.minCoverage, logs.fallback: every backend's log coverage holds them.
    private static readonly string[] RootKeys = ["reconcileInterval", "counterInterval", "ha", "stateDirectory"];
    private static readonly string[] CoverageKeys = ["sampleRatio", "minCoverage", "fallback"];
    private static readonly string[] SourceKeys = ["source", "allowFrom"];

    /// <summary>
    /// The key paths whose value differs between <paramref name="running"/> and <paramref name="wanted"/> and that need a
    /// restart (<c>logs.source</c> and <c>logs.allowFrom</c> too when the embedder supplied the log source).
    /// </summary>
    public static IReadOnlyList<string> Changed(AutoscaleOptions running, AutoscaleOptions wanted, bool sourceRebindable)
    {
        List<string> paths = [.. OptionsSchema.Haproxy.Differences(running.Haproxy, wanted.Haproxy).Select(k => "haproxy." + k)];
        paths.AddRange(OptionsSchema.Warmup.Differences(running.Warmup, wanted.Warmup).Select(k => "warmup." + k));
        paths.AddRange(OptionsSchema.Logs.Differences(running.Logs, wanted.Logs)
            .Where(k => CoverageKeys.Contains(k) || (!sourceRebindable && SourceKeys.Contains(k))).Select(k => "logs." + k));
        paths.AddRange(OptionsSchema.Root.Differences(running, wanted).Where(RootKeys.Contains));
        return paths;
    }

    /// <summary>Sets <paramref name="wanted"/>'s restart-only settings to the running values (a deep copy), so the options the engine keeps are what runs.</summary>
    public static void KeepRunning(AutoscaleOptions running, AutoscaleOptions wanted, bool sourceRebindable)
    {
        OptionsSchema.Haproxy.CopyInto(running.Haproxy, wanted.Haproxy);
        OptionsSchema.Warmup.CopyInto(running.Warmup, wanted.Warmup);
        wanted.ReconcileInterval = running.ReconcileInterval;
        wanted.CounterInterval = running.CounterInterval;
        wanted.StateDirectory = running.StateDirectory;
        wanted.HighAvailability = running.HighAvailability is { } ha ? OptionsSchema.HighAvailability.Copy(ha) : null;
        wanted.Logs.SampleRatio = running.Logs.SampleRatio;
        wanted.Logs.MinCoverage = running.Logs.MinCoverage;
        wanted.Logs.Fallback = running.Logs.Fallback;
        if (!sourceRebindable)
        {
            wanted.Logs.Source = running.Logs.Source;
            wanted.Logs.AllowFrom.Clear();
            foreach (string entry in running.Logs.AllowFrom)
            {
                wanted.Logs.AllowFrom.Add(entry);
            }
        }
    }
}
