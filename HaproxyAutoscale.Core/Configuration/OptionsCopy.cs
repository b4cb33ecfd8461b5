using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// Deep copies of validated options: the engine keeps its own, so a caller that changes its options object after
/// <see cref="Hosting.AutoscalerBuilder.Build"/> cannot slip an unvalidated value (a zero interval, a new server)
/// into a running autoscaler.
/// </summary>
internal static class OptionsCopy
{
    public static AutoscaleOptions Of(AutoscaleOptions source)
    {
        var copy = new AutoscaleOptions
        {
            CommandTimeout = source.CommandTimeout,
            LogSource = source.LogSource,
            EvaluationInterval = source.EvaluationInterval,
            ReconcileInterval = source.ReconcileInterval,
            CounterInterval = source.CounterInterval,
            LogSampleRatio = source.LogSampleRatio,
            MinLogCoverage = source.MinLogCoverage,
            BlindFallback = source.BlindFallback,
            HighAvailability = source.HighAvailability?.Copy(),
        };
        AddAll(copy.Endpoints, source.Endpoints);
        copy.LogAllowFrom.Clear();
        AddAll(copy.LogAllowFrom, source.LogAllowFrom);
        WarmupOptions warmup = copy.Warmup;
        (warmup.Timeout, warmup.Attempts, warmup.RetryDelay, warmup.FailureBackoff, warmup.MinStatus, warmup.MaxStatus) =
            (source.Warmup.Timeout, source.Warmup.Attempts, source.Warmup.RetryDelay, source.Warmup.FailureBackoff, source.Warmup.MinStatus, source.Warmup.MaxStatus);
        AddAll(copy.Backends, source.Backends.Select(Of));
        return copy;
    }

    private static BackendOptions Of(BackendOptions source)
    {
        var copy = new BackendOptions
        {
            Name = source.Name,
            Window = new WindowOptions
            {
                Kind = source.Window.Kind,
                Size = source.Window.Size,
                Duration = source.Window.Duration,
                HalfLife = source.Window.HalfLife,
                Statistic = source.Window.Statistic,
                Timer = source.Window.Timer,
            },
            PolicyKind = source.PolicyKind,
            ScaleDown = new ScaleDownOptions { Mode = source.ScaleDown.Mode, DrainTimeout = source.ScaleDown.DrainTimeout },
            Selection = source.Selection,
            MinActive = source.MinActive,
            MaxActive = source.MaxActive,
            SettleTime = source.SettleTime,
        };
        foreach (KeyValuePair<string, string> setting in source.PolicySettings)
        {
            copy.PolicySettings.Add(setting);
        }

        (copy.Provider, copy.Pool) = Providers.ServerProviderRules.Copy(source.Provider, source.Pool);
        AddAll(copy.Servers, source.Servers.Select(s => new ServerOptions { Name = s.Name, AlwaysUp = s.AlwaysUp, WarmupUrl = s.WarmupUrl, Weight = s.Weight }));
        BehaviorOptionsCopy.Into(copy, source);
        return copy;
    }

    private static void AddAll<T>(ICollection<T> target, IEnumerable<T> items)
    {
        foreach (T item in items)
        {
            target.Add(item);
        }
    }
}
