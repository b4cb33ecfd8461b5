using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// Every key of the configuration, in the JSON's shape: one line per option, naming its key and its property. The
/// JSON and <c>IConfiguration</c> reader, the deep copy and the key reference come from here; the rules values must
/// follow are <see cref="AutoscaleOptionsValidator"/>'s.
/// </summary>
internal static class OptionsSchema
{
    private static readonly (string Name, ServerSelection Value)[] Selections =
        [("ordered", ServerSelection.Ordered), ("random", ServerSelection.Random), ("least-sessions", ServerSelection.LeastSessions), ("newest", ServerSelection.Newest)];

    public static readonly OptionsShape<HaproxyOptions> Haproxy = new(
        () => new(),
        Key<HaproxyOptions>.Texts("endpoints", o => o.Endpoints),
        Key<HaproxyOptions>.Duration("timeout", o => o.Timeout, (o, v) => o.Timeout = v));

    public static readonly OptionsShape<LogOptions> Logs = new(
        () => new(),
        Key<LogOptions>.Text("source", o => o.Source, (o, v) => o.Source = v),
        Key<LogOptions>.Texts("allowFrom", o => o.AllowFrom),
        Key<LogOptions>.Number("sampleRatio", o => o.SampleRatio, (o, v) => o.SampleRatio = v),
        Key<LogOptions>.Number("minCoverage", o => o.MinCoverage, (o, v) => o.MinCoverage = v),
        Key<LogOptions>.Enum<BlindFallback>("fallback", o => o.Fallback, (o, v) => o.Fallback = v));

    public static readonly OptionsShape<WarmupOptions> Warmup = new(
        () => new(),
        Key<WarmupOptions>.Duration("timeout", o => o.Timeout, (o, v) => o.Timeout = v),
        Key<WarmupOptions>.Int("attempts", o => o.Attempts, (o, v) => o.Attempts = v),
        Key<WarmupOptions>.Duration("retryDelay", o => o.RetryDelay, (o, v) => o.RetryDelay = v),
        Key<WarmupOptions>.Duration("failureBackoff", o => o.FailureBackoff, (o, v) => o.FailureBackoff = v),
        Key<WarmupOptions>.Int("minStatus", o => o.MinStatus, (o, v) => o.MinStatus = v),
        Key<WarmupOptions>.Int("maxStatus", o => o.MaxStatus, (o, v) => o.MaxStatus = v));

    public static readonly OptionsShape<HighAvailabilityOptions> HighAvailability = new(
        () => new(),
        Key<HighAvailabilityOptions>.Texts("etcd", o => o.Etcd),
        Key<HighAvailabilityOptions>.Text("electionName", o => o.ElectionName, (o, v) => o.ElectionName = v),
        Key<HighAvailabilityOptions>.Duration("leaseTtl", o => o.LeaseTtl, (o, v) => o.LeaseTtl = v),
        Key<HighAvailabilityOptions>.Text("replica", o => o.Replica, (o, v) => o.Replica = v));

    public static readonly OptionsShape<WindowOptions> Window = new(
        () => new(),
        Key<WindowOptions>.Text("kind", o => o.Kind, (o, v) => o.Kind = v, normalize: kind => kind.ToLowerInvariant()),
        Key<WindowOptions>.Int("size", o => o.Size, (o, v) => o.Size = v),
        Key<WindowOptions>.Duration("duration", o => o.Duration, (o, v) => o.Duration = v),
        Key<WindowOptions>.Duration("halfLife", o => o.HalfLife, (o, v) => o.HalfLife = v),
        Key<WindowOptions>.Enum<WindowStatistic>("statistic", o => o.Statistic, (o, v) => o.Statistic = v),
        // "Tw+Tc+Tr" as written in HAProxy's docs, or the enum name.
        Key<WindowOptions>.Custom(
            "timer",
            $"one of {string.Join(", ", Key<WindowOptions>.EnumNames<ResponseTimer>())}",
            (r, n, p, o) => Set(string.Equals(n.Text, "Tw+Tc+Tr", StringComparison.OrdinalIgnoreCase) ? ResponseTimer.TwTcTr : r.Enum<ResponseTimer>(n, p), v => o.Timer = v),
            o => o.Timer,
            (o, v) => o.Timer = v,
            v => v.ToString()));

    // "kind" names the policy; every other key is a setting, read and checked by the policy's factory.
    public static readonly OptionsShape<PolicyOptions> Policy = new(
        () => new(),
        Key<PolicyOptions>.Text("kind", o => o.Kind, (o, v) => o.Kind = v))
    {
        Others = new()
        {
            Type = "the policy's settings",
            Read = (r, key, n, p, o) =>
            {
                if (n.Scalar is { } value)
                {
                    o.Settings[key] = value;
                }
                else
                {
                    r.Problem(p, "expected a value");
                }
            },
            Copy = (from, to) => CopyAll(from.Settings, to.Settings, v => v),
            Same = (a, b) => SameAll(a.Settings, b.Settings, string.Equals),
        },
    };

    public static readonly OptionsShape<ScaleDownOptions> ScaleDown = new(
        () => new(),
        Key<ScaleDownOptions>.Enum<ScaleDownMode>("mode", o => o.Mode, (o, v) => o.Mode = v),
        Key<ScaleDownOptions>.Duration("drainTimeout", o => o.DrainTimeout, (o, v) => o.DrainTimeout = v));

    public static readonly OptionsShape<ServerOptions> Server = new(
        () => new(),
        Key<ServerOptions>.Bool("alwaysUp", o => o.AlwaysUp, (o, v) => o.AlwaysUp = v),
        // Whether it is an absolute http(s) URL is a rule, checked with the options built in code.
        Key<ServerOptions>.Custom(
            "warmupUrl",
            "string (URL)",
            (r, n, p, o) =>
            {
                if (r.String(n, p) is { } text)
                {
                    if (Uri.TryCreate(text, UriKind.RelativeOrAbsolute, out Uri? url))
                    {
                        o.WarmupUrl = url;
                    }
                    else
                    {
                        r.Problem(p, AutoscaleOptionsValidator.NotAnHttpUrl);
                    }
                }
            },
            o => o.WarmupUrl,
            (o, v) => o.WarmupUrl = v,
            v => v?.ToString() ?? "none"),
        Key<ServerOptions>.Int("weight", o => o.Weight, (o, v) => o.Weight = v));

    // "kind", "keepWarm" and "timeout" are the engine's; every other key is the provider's own setting.
    public static readonly OptionsShape<ServerProviderOptions> Provider = new(
        () => new(),
        Key<ServerProviderOptions>.Text("kind", o => o.Kind, (o, v) => o.Kind = v),
        Key<ServerProviderOptions>.Duration("keepWarm", o => o.KeepWarm, (o, v) => o.KeepWarm = v),
        Key<ServerProviderOptions>.Duration("timeout", o => o.Timeout, (o, v) => o.Timeout = v))
    {
        Others = new()
        {
            Type = "the provider's settings: a value or an array of strings",
            Read = ReadProviderSetting,
            Copy = (from, to) =>
            {
                CopyAll(from.Settings, to.Settings, v => v);
                CopyAll(from.Lists, to.Lists, list => (IList<string>)[.. list]);
            },
            Same = (a, b) => SameAll(a.Settings, b.Settings, string.Equals) && SameAll(a.Lists, b.Lists, (x, y) => x.SequenceEqual(y, StringComparer.Ordinal)),
        },
    };

    public static readonly OptionsShape<ServerPoolOptions> Pool = new(
        () => new(),
        Key<ServerPoolOptions>.Text("prefix", o => o.Prefix, (o, v) => o.Prefix = v),
        Key<ServerPoolOptions>.Int("max", o => o.Max, (o, v) => o.Max = v),
        Key<ServerPoolOptions>.Text("serverOptions", o => o.ServerOptions, (o, v) => o.ServerOptions = v),
        // null: no warm-up
        Key<ServerPoolOptions>.Custom(
            "warmupPath",
            "string or null",
            (r, n, p, o) => o.WarmupPath = n.Scalar is null && n.Members() is null && n.Items() is null ? null : r.String(n, p),
            o => o.WarmupPath,
            (o, v) => o.WarmupPath = v,
            v => v ?? "null"));

    public static readonly OptionsShape<ScalingDirectionOptions> Up = new(() => new(), DirectionKeys(down: false));

    public static readonly OptionsShape<ScalingDirectionOptions> Down = new(() => new(), DirectionKeys(down: true));

    public static readonly OptionsShape<ScalingBehaviorOptions> Behavior = new(
        () => new(),
        Key<ScalingBehaviorOptions>.Object("up", o => o.Up, Up),
        Key<ScalingBehaviorOptions>.Object("down", o => o.Down, Down));

    public static readonly OptionsShape<ScheduledFloorOptions> ScheduledFloor = new(
        () => new(),
        Key<ScheduledFloorOptions>.Text("cron", o => o.Cron, (o, v) => o.Cron = v),
        Key<ScheduledFloorOptions>.Duration("for", o => o.For, (o, v) => o.For = v),
        Key<ScheduledFloorOptions>.Int("minActive", o => o.MinActive, (o, v) => o.MinActive = v),
        Key<ScheduledFloorOptions>.Text("timeZone", o => o.TimeZone, (o, v) => o.TimeZone = v));

    public static readonly OptionsShape<ForecastOptions> Forecast = new(
        () => new(),
        Key<ForecastOptions>.Custom(
            "mode", $"one of {string.Join(", ", ForecastModes.Names)}", (r, n, p, o) => Set(Named(r, n, p, ForecastModes.All), v => o.Mode = v), o => o.Mode, (o, v) => o.Mode = v, ForecastModes.Name),
        Key<ForecastOptions>.Duration("lookback", o => o.Lookback, (o, v) => o.Lookback = v),
        Key<ForecastOptions>.Duration("spread", o => o.Spread, (o, v) => o.Spread = v),
        Key<ForecastOptions>.Number("percentile", o => o.Percentile, (o, v) => o.Percentile = v),
        Key<ForecastOptions>.Duration("minLead", o => o.MinLead, (o, v) => o.MinLead = v));
    public static readonly OptionsShape<SloOptions> Slo = new(
        () => new(),
        Key<SloOptions>.OptionalDuration("p95", o => o.P95, (o, v) => o.P95 = v, none: "200ms, or 2 × the learned service p95 if more"));

    public static readonly OptionsShape<BackendOptions> Backend = new(
        () => new(),
        Key<BackendOptions>.Object("window", o => o.Window, Window),
        Key<BackendOptions>.Object("policy", o => o.Policy, Policy),
        Key<BackendOptions>.Object("scaleDown", o => o.ScaleDown, ScaleDown),
        Key<BackendOptions>.Custom(
            "selection",
            $"one of {string.Join(", ", Selections.Select(s => s.Name))}",
            (r, n, p, o) => Set(Named(r, n, p, Selections), v => o.Selection = v),
            o => o.Selection,
            (o, v) => o.Selection = v,
            v => Array.Find(Selections, s => s.Value == v).Name ?? v.ToString()),
        Key<BackendOptions>.Int("minActive", o => o.MinActive, (o, v) => o.MinActive = v),
        Key<BackendOptions>.Int("maxActive", o => o.MaxActive, (o, v) => o.MaxActive = v),
        Key<BackendOptions>.Duration("settleTime", o => o.SettleTime, (o, v) => o.SettleTime = v),
        Key<BackendOptions>.Named("servers", o => o.Servers, Server, s => s.Name, (s, name) => s.Name = name),
        Key<BackendOptions>.Optional("provider", o => o.Provider, (o, v) => o.Provider = v, Provider),
        Key<BackendOptions>.Optional("pool", o => o.Pool, (o, v) => o.Pool = v, Pool),
        Key<BackendOptions>.Object("behavior", o => o.Behavior, Behavior),
        Key<BackendOptions>.Array("schedule", o => o.Schedule, ScheduledFloor),
        Key<BackendOptions>.Object("forecast", o => o.Forecast, Forecast),
        Key<BackendOptions>.Object("slo", o => o.Slo, Slo));

    public static readonly OptionsShape<AutoscaleOptions> Root = new(
        () => new(),
        Key<AutoscaleOptions>.Object("haproxy", o => o.Haproxy, Haproxy),
        Key<AutoscaleOptions>.Object("logs", o => o.Logs, Logs),
        Key<AutoscaleOptions>.Object("warmup", o => o.Warmup, Warmup),
        Key<AutoscaleOptions>.Duration("evaluationInterval", o => o.EvaluationInterval, (o, v) => o.EvaluationInterval = v),
        Key<AutoscaleOptions>.Duration("reconcileInterval", o => o.ReconcileInterval, (o, v) => o.ReconcileInterval = v),
        Key<AutoscaleOptions>.Duration("counterInterval", o => o.CounterInterval, (o, v) => o.CounterInterval = v),
        Key<AutoscaleOptions>.Text("stateDirectory", o => o.StateDirectory, (o, v) => o.StateDirectory = v),
        Key<AutoscaleOptions>.Named("backends", o => o.Backends, Backend, b => b.Name, (b, name) => b.Name = name),
        Key<AutoscaleOptions>.Optional("ha", o => o.HighAvailability, (o, v) => o.HighAvailability = v, HighAvailability));

    /// <summary>Every key with what it holds and its default, in the JSON's order (<c>NAME</c> for a backend's or server's name).</summary>
    public static IEnumerable<KeyReference> Reference() => Root.Describe("");

    private static OptionKey<ScalingDirectionOptions>[] DirectionKeys(bool down)
    {
        List<OptionKey<ScalingDirectionOptions>> keys =
        [
            Key<ScalingDirectionOptions>.Number("tolerance", o => o.Tolerance, (o, v) => o.Tolerance = v),
            Key<ScalingDirectionOptions>.Duration("cooldown", o => o.Cooldown, (o, v) => o.Cooldown = v),
            Key<ScalingDirectionOptions>.Duration("stabilization", o => o.Stabilization, (o, v) => o.Stabilization = v),
            Key<ScalingDirectionOptions>.Int("maxStep", o => o.MaxStep, (o, v) => o.MaxStep = v),
        ];
        if (down)
        {
            keys.Add(Key<ScalingDirectionOptions>.Duration("minIdleBeforePark", o => o.MinIdleBeforePark, (o, v) => o.MinIdleBeforePark = v));
        }

        return [.. keys];
    }

    // A value named as documented ("least-sessions", "forecast-only"), or by the enum's name ("LeastSessions").
    private static TEnum? Named<TEnum>(OptionsReader reader, ConfigNode node, string path, (string Name, TEnum Value)[] names)
        where TEnum : struct, Enum
    {
        if (reader.String(node, path) is not { } text)
        {
            return null;
        }

        foreach ((string name, TEnum value) in names)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase) || string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        reader.Problem(path, $"'{text}' is not one of {string.Join(", ", names.Select(s => s.Name))}");
        return null;
    }

    private static void ReadProviderSetting(OptionsReader reader, string key, ConfigNode node, string path, ServerProviderOptions provider)
    {
        if (node.Scalar is { } value)
        {
            provider.Settings[key] = value;
        }
        else if (node.Items() is { } items)
        {
            var list = new List<string>();
            foreach ((string index, ConfigNode item) in items)
            {
                if (reader.String(item, $"{path}[{index}]") is { } text)
                {
                    list.Add(text);
                }
            }

            provider.Lists[key] = list;
        }
        else
        {
            reader.Problem(path, "expected a value or an array of strings");
        }
    }

    private static void Set<TValue>(TValue? value, Action<TValue> set)
        where TValue : struct
    {
        if (value is { } v)
        {
            set(v);
        }
    }

    private static bool SameAll<TValue>(IDictionary<string, TValue> a, IDictionary<string, TValue> b, Func<TValue, TValue, bool> same) =>
        a.Count == b.Count && a.All(entry => b.TryGetValue(entry.Key, out TValue? other) && same(entry.Value, other));

    private static void CopyAll<TValue>(IDictionary<string, TValue> from, IDictionary<string, TValue> to, Func<TValue, TValue> copy)
    {
        foreach ((string key, TValue value) in from)
        {
            to[key] = copy(value);
        }
    }
}
