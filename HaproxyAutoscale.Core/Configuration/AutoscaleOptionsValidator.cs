using System.Globalization;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// The rules every <see cref="AutoscaleOptions"/> must meet, however it was made: read from the JSON file, from
/// <c>IConfiguration</c>, or built in code. <see cref="AutoscaleConfiguration.Parse"/>,
/// <see cref="Hosting.AutoscalerBuilder.Build"/> and the host's start all apply them, and report every problem at once,
/// each with its configuration path: <c>evaluationInterval: must be more than 0</c>,
/// <c>backends.app.servers.s2.weight: expected an integer from 1 to 256</c>.
/// </summary>
public static partial class AutoscaleOptionsValidator
{
    internal const string NotAnHttpUrl = "not an absolute http(s) URL";

    /// <summary>
    /// Every problem of <paramref name="options"/> as <c>path: message</c>; empty when they are valid. Each backend's
    /// policy, window and provider are created through <paramref name="registries"/> (what the embedder registered, or
    /// the built-in ones when <see langword="null"/>), so an unknown kind or a wrong setting is a problem too.
    /// </summary>
    public static IReadOnlyList<string> Validate(AutoscaleOptions options, AutoscaleRegistries? registries = null) =>
        [.. Problems(options, registries ?? new AutoscaleRegistries()).Select(p => p.Text)];

    /// <summary>Throws <see cref="AutoscaleOptionsException"/> listing every problem, if there is any.</summary>
    internal static void ThrowIfInvalid(AutoscaleOptions options, AutoscaleRegistries registries)
    {
        if (Problems(options, registries).Select(p => p.Text).ToList() is { Count: > 0 } errors)
        {
            throw new AutoscaleOptionsException(errors);
        }
    }

    internal static List<ConfigurationProblem> Problems(AutoscaleOptions options, AutoscaleRegistries registries)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registries);
        var rules = new Rules();
        HaproxyOptions haproxy = options.Haproxy;
        for (int i = 0; i < haproxy.Endpoints.Count; i++)
        {
            string path = $"haproxy.endpoints[{i.ToString(CultureInfo.InvariantCulture)}]";
            if (!HaproxyEndpoint.TryParse(haproxy.Endpoints[i] ?? "", out _, out string? error))
            {
                rules.Add(path, error ?? "not an endpoint");
            }
        }

        rules.Positive("haproxy", "timeout", haproxy.Timeout);
        LogOptions logs = options.Logs;
        if (LogSources.Validate(logs.Source ?? "") is { } sourceError)
        {
            rules.Add("logs.source", sourceError);
        }

        if (logs.AllowFrom.Count == 0)
        {
            rules.Add("logs.allowFrom", "empty: every datagram would be rejected (list the senders, or [\"0.0.0.0/0\", \"::/0\"] to accept any)");
        }

        for (int i = 0; i < logs.AllowFrom.Count; i++)
        {
            if (!SenderAllowlist.TryParse(logs.AllowFrom[i], out _, out string? error))
            {
                rules.Add($"logs.allowFrom[{i.ToString(CultureInfo.InvariantCulture)}]", error!);
            }
        }

        rules.Positive("", "evaluationInterval", options.EvaluationInterval);
        rules.Positive("", "reconcileInterval", options.ReconcileInterval);
        rules.Positive("", "counterInterval", options.CounterInterval);
        if (options.StateDirectory is { } stateDirectory && !Path.IsPathFullyQualified(stateDirectory))
        {
            rules.Add("stateDirectory", $"'{stateDirectory}' is not an absolute path");
        }

        if (!(logs.SampleRatio > 0 && logs.SampleRatio <= 1))
        {
            rules.Add("logs.sampleRatio", "expected a fraction above 0 and at most 1 (0.1 for 'log … sample 1:10')");
        }

        if (!(logs.MinCoverage >= 0 && logs.MinCoverage <= 1))
        {
            rules.Add("logs.minCoverage", "expected a number from 0 to 1 (0 turns blindness detection off)");
        }

        rules.Defined("logs", "fallback", logs.Fallback);

        WarmupOptions warmup = options.Warmup;
        rules.Positive("warmup", "timeout", warmup.Timeout);
        rules.Range("warmup", "attempts", warmup.Attempts, 1, 100);
        rules.NotNegative("warmup", "retryDelay", warmup.RetryDelay);
        rules.NotNegative("warmup", "failureBackoff", warmup.FailureBackoff);
        bool statusesInRange = rules.Range("warmup", "minStatus", warmup.MinStatus, 100, 599) & rules.Range("warmup", "maxStatus", warmup.MaxStatus, 100, 599);
        if (statusesInRange && warmup.MaxStatus < warmup.MinStatus)
        {
            rules.Add("warmup.maxStatus", $"{warmup.MaxStatus} is below minStatus ({warmup.MinStatus})");
        }

        if (options.HighAvailability is { } ha)
        {
            foreach ((string path, string message) in HighAvailability.HighAvailabilityOptions.Problems(ha, "ha"))
            {
                rules.Add(path, message);
            }
        }

        if (options.Backends.Count == 0)
        {
            rules.Add("backends", "at least one backend is required");
        }

        var backendNames = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < options.Backends.Count; i++)
        {
            if (options.Backends[i] is not { } backend)
            {
                rules.Add($"backends[{i.ToString(CultureInfo.InvariantCulture)}]", "no backend (null)");
                continue;
            }

            rules.Name("backends", backend.Name, "backend", backendNames);
            string path = $"backends.{backend.Name}";
            Backend(rules, backend, path, registries);
            ProviderAndPool(rules, backend, path, registries.Providers);
        }

        return rules.Problems;
    }

    private static void Backend(Rules rules, BackendOptions backend, string path, AutoscaleRegistries registries)
    {
        if (backend.Window is { } window)
        {
            Window(rules, window, path + ".window", registries.Windows);
        }
        else
        {
            rules.Add(path + ".window", "required");
        }

        // The policy's own factory checks its settings, so a custom policy's rules apply here too.
        var settings = new PolicySettings(backend.Policy.Kind ?? "", backend.Policy.Settings.ToDictionary(), path + ".policy");
        var policyErrors = new List<string>();
        registries.Policies.TryCreate(settings, policyErrors);
        foreach (string error in policyErrors)
        {
            rules.Problems.Add(new ConfigurationProblem(settings.Path, error));
        }

        if (backend.ScaleDown is { } scaleDown)
        {
            rules.Defined(path, "scaleDown.mode", scaleDown.Mode);
            rules.Positive(path, "scaleDown.drainTimeout", scaleDown.DrainTimeout);
        }
        else
        {
            rules.Add(path + ".scaleDown", "required");
        }

        rules.Defined(path, "selection", backend.Selection);
        Scaling.BehaviorGate.Validate(backend, path, rules.AddProblem);
        backend.Forecast.Validate(path + ".forecast", rules.AddProblem);
        if (backend.MinActive is { } min)
        {
            rules.Range(path, "minActive", min, 0, 10_000);
        }

        if (backend.MaxActive is { } max)
        {
            rules.Range(path, "maxActive", max, 1, 10_000);
        }

        rules.NotNegative(path, "settleTime", backend.SettleTime);
        if (backend.Slo.P95 is { } p95)
        {
            rules.Positive(path, "slo.p95", p95);
        }

        var serverNames = new HashSet<string>(backend.Servers.Count, StringComparer.Ordinal);
        string servers = path + ".servers";
        for (int i = 0; i < backend.Servers.Count; i++)
        {
            if (backend.Servers[i] is not { } server)
            {
                rules.Add($"{servers}[{i.ToString(CultureInfo.InvariantCulture)}]", "no server (null)");
                continue;
            }

            rules.Name(servers, server.Name, "server", serverNames);
            if (server.WarmupUrl is { } url && !(url.IsAbsoluteUri && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
            {
                rules.Add($"{servers}.{server.Name}.warmupUrl", NotAnHttpUrl);
            }

            if (server.Weight is { } weight and not (>= 1 and <= 256))
            {
                rules.Add($"{servers}.{server.Name}.weight", "expected an integer from 1 to 256");
            }
        }

        if (backend.Servers.Count == 0)
        {
            rules.Add(servers, "at least one server is required");
        }
        else if (backend.MinActive > backend.Servers.Count)
        {
            rules.Add(path + ".minActive", $"{backend.MinActive} is more than the {backend.Servers.Count} configured servers");
        }

        if (backend.MaxActive is { } maxActive && maxActive < backend.EffectiveMinActive)
        {
            rules.Add(path + ".maxActive", $"{maxActive} is below the minimum of {backend.EffectiveMinActive} (minActive and alwaysUp servers)");
        }
    }

    private static void Window(Rules rules, WindowOptions window, string path, ResponseTimeWindowRegistry windows)
    {
        string? kind = window.Kind?.ToLowerInvariant();
        if (kind is null || !windows.Contains(kind))
        {
            rules.Add(path + ".kind", $"unknown window kind '{window.Kind}' (use {string.Join(", ", windows.Names.Order(StringComparer.Ordinal))})");
        }

        rules.Range(path, "size", window.Size, 1, 1_000_000);
        rules.Positive(path, "duration", window.Duration);
        rules.Positive(path, "halfLife", window.HalfLife);
        if (rules.Defined(path, "statistic", window.Statistic) && kind == WindowKinds.Ewma && window.Statistic != WindowStatistic.Mean)
        {
            rules.Add(path + ".statistic", "an ewma window reports only the mean");
        }

        rules.Defined(path, "timer", window.Timer);
    }
}
