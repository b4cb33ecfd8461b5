using System.Globalization;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Configuration;

/// <summary>A problem found in a configuration: where (for the reader to skip what follows from it) and the message.</summary>
/// <param name="Path">The configuration path, e.g. <c>backends.app.servers.s2.weight</c>.</param>
/// <param name="Text">The whole message, <c>path: what is wrong</c>.</param>
internal readonly record struct ConfigurationProblem(string Path, string Text)
{
    public static ConfigurationProblem At(string path, string message) => new(path, $"{(path.Length == 0 ? "(root)" : path)}: {message}");

    // Whether this problem is at or below path: a value that could not be read is not judged again.
    public bool IsUnder(string path) =>
        Path.StartsWith(path, StringComparison.Ordinal) && (Path.Length == path.Length || Path[path.Length] is '.' or '[');
}

/// <summary>
/// The configuration schema, walked once over any <see cref="ConfigNode"/>: keys are case-insensitive, unknown keys
/// are errors, and only the shape and types are checked here (an integer, a duration, an object). The rules that
/// values must follow are <see cref="AutoscaleOptionsValidator"/>'s, the same for every entry path.
/// </summary>
internal sealed partial class OptionsReader
{
    private const string DurationExpected = "expected a duration such as \"30s\", \"5m\", \"250ms\" or \"00:05:00\"";

    private readonly List<ConfigurationProblem> _problems;

    private OptionsReader(List<ConfigurationProblem> problems) => _problems = problems;

    /// <summary>Reads <paramref name="root"/> into options, adding every shape or type problem to <paramref name="problems"/>.</summary>
    public static AutoscaleOptions? Read(ConfigNode root, List<ConfigurationProblem> problems)
    {
        var reader = new OptionsReader(problems);
        var options = new AutoscaleOptions();
        return reader.Object(root, "", ["haproxy", "logs", "warmup", "evaluationInterval", "reconcileInterval", "counterInterval", "backends", "ha"], (key, node, path) =>
        {
            switch (key)
            {
                case "haproxy":
                    reader.Object(node, path, ["endpoints", "timeout"], (k, n, p) =>
                    {
                        if (k == "endpoints")
                        {
                            reader.Items(n, p, (item, itemPath) => SetText(reader.String(item, itemPath), options.Endpoints.Add));
                        }
                        else
                        {
                            Set(reader.Duration(n, p), v => options.CommandTimeout = v);
                        }
                    });
                    break;
                case "logs":
                    reader.ReadLogs(node, path, options);
                    break;
                case "warmup":
                    reader.ReadWarmup(node, path, options.Warmup);
                    break;
                case "evaluationInterval":
                    Set(reader.Duration(node, path), v => options.EvaluationInterval = v);
                    break;
                case "reconcileInterval":
                    Set(reader.Duration(node, path), v => options.ReconcileInterval = v);
                    break;
                case "counterInterval":
                    Set(reader.Duration(node, path), v => options.CounterInterval = v);
                    break;
                case "backends":
                    reader.Names(node, path, (name, n, p) => options.Backends.Add(reader.ReadBackend(name, n, p)));
                    break;
                case "ha":
                    options.HighAvailability = reader.ReadHighAvailability(node, path);
                    break;
            }
        }) ? options : null;
    }

    private void ReadLogs(ConfigNode node, string path, AutoscaleOptions options) =>
        Object(node, path, ["source", "allowFrom", "sampleRatio", "minCoverage", "fallback"], (key, n, p) =>
        {
            switch (key)
            {
                case "source":
                    SetText(String(n, p), v => options.LogSource = v);
                    break;
                case "allowFrom":
                    // Configured entries replace the loopback default. An entry that is no string keeps its place, so
                    // that the rules name the others by their own index.
                    options.LogAllowFrom.Clear();
                    Items(n, p, (item, itemPath) => options.LogAllowFrom.Add(String(item, itemPath) ?? ""));
                    break;
                case "sampleRatio":
                    Set(Double(n, p), v => options.LogSampleRatio = v);
                    break;
                case "minCoverage":
                    Set(Double(n, p), v => options.MinLogCoverage = v);
                    break;
                case "fallback":
                    Set(Enum<BlindFallback>(n, p), v => options.BlindFallback = v);
                    break;
            }
        });

    private HighAvailability.HighAvailabilityOptions ReadHighAvailability(ConfigNode node, string path)
    {
        var ha = new HighAvailability.HighAvailabilityOptions();
        Object(node, path, ["etcd", "electionName", "leaseTtl", "replica"], (key, n, p) =>
        {
            switch (key)
            {
                case "etcd":
                    Items(n, p, (item, itemPath) => SetText(String(item, itemPath), ha.Etcd.Add));
                    break;
                case "electionName":
                    SetText(String(n, p), v => ha.ElectionName = v);
                    break;
                case "leaseTtl":
                    Set(Duration(n, p), v => ha.LeaseTtl = v);
                    break;
                case "replica":
                    SetText(String(n, p), v => ha.Replica = v);
                    break;
            }
        });
        return ha;
    }

    private void ReadWarmup(ConfigNode node, string path, WarmupOptions warmup) =>
        Object(node, path, ["timeout", "attempts", "retryDelay", "failureBackoff", "minStatus", "maxStatus"], (key, n, p) =>
        {
            switch (key)
            {
                case "timeout":
                    Set(Duration(n, p), v => warmup.Timeout = v);
                    break;
                case "attempts":
                    Set(Int(n, p), v => warmup.Attempts = v);
                    break;
                case "retryDelay":
                    Set(Duration(n, p), v => warmup.RetryDelay = v);
                    break;
                case "failureBackoff":
                    Set(Duration(n, p), v => warmup.FailureBackoff = v);
                    break;
                case "minStatus":
                    Set(Int(n, p), v => warmup.MinStatus = v);
                    break;
                case "maxStatus":
                    Set(Int(n, p), v => warmup.MaxStatus = v);
                    break;
            }
        });

    private BackendOptions ReadBackend(string name, ConfigNode node, string path)
    {
        var backend = new BackendOptions { Name = name };
        Object(node, path, ["window", "policy", "scaleDown", "selection", "minActive", "maxActive", "settleTime", "servers", "provider", "pool", "behavior", "schedule"], (key, n, p) =>
        {
            switch (key)
            {
                case "window":
                    ReadWindow(n, p, backend.Window);
                    break;
                case "policy":
                    // "kind" names the policy; every other key is a setting, read and checked by the policy's factory.
                    Object(n, p, null, (k, v, pp) =>
                    {
                        if (string.Equals(k, "kind", StringComparison.OrdinalIgnoreCase))
                        {
                            SetText(String(v, pp), kind => backend.PolicyKind = kind);
                        }
                        else if (v.Scalar is { } value)
                        {
                            backend.PolicySettings[k] = value;
                        }
                        else
                        {
                            _problems.Add(ConfigurationProblem.At(pp, "expected a value"));
                        }
                    });
                    break;
                case "scaleDown":
                    Object(n, p, ["mode", "drainTimeout"], (k, v, pp) =>
                    {
                        if (k == "mode")
                        {
                            Set(Enum<ScaleDownMode>(v, pp), mode => backend.ScaleDown.Mode = mode);
                        }
                        else
                        {
                            Set(Duration(v, pp), timeout => backend.ScaleDown.DrainTimeout = timeout);
                        }
                    });
                    break;
                case "selection":
                    Set(Selection(n, p), v => backend.Selection = v);
                    break;
                case "behavior":
                    ReadBehavior(n, p, backend.Behavior);
                    break;
                case "schedule":
                    Items(n, p, (item, ip) => backend.Schedule.Add(ReadScheduledFloor(item, ip)));
                    break;
                case "minActive":
                    Set(Int(n, p), v => backend.MinActive = v);
                    break;
                case "maxActive":
                    Set(Int(n, p), v => backend.MaxActive = v);
                    break;
                case "settleTime":
                    Set(Duration(n, p), v => backend.SettleTime = v);
                    break;
                case "servers":
                    Names(n, p, (serverName, v, pp) => backend.Servers.Add(ReadServer(serverName, v, pp)));
                    break;
                case "provider" or "pool":
                    ReadProviderOrPool(backend, key, n, p);
                    break;
            }
        });
        return backend;
    }

    private void ReadWindow(ConfigNode node, string path, WindowOptions window) =>
        Object(node, path, ["kind", "size", "duration", "halfLife", "statistic", "timer"], (key, n, p) =>
        {
            switch (key)
            {
                case "kind":
                    SetText(String(n, p), v => window.Kind = v.ToLowerInvariant());
                    break;
                case "size":
                    Set(Int(n, p), v => window.Size = v);
                    break;
                case "duration":
                    Set(Duration(n, p), v => window.Duration = v);
                    break;
                case "halfLife":
                    Set(Duration(n, p), v => window.HalfLife = v);
                    break;
                case "statistic":
                    Set(Enum<WindowStatistic>(n, p), v => window.Statistic = v);
                    break;
                case "timer":
                    // "Tw+Tc+Tr" as written in HAProxy's docs, or the enum name.
                    Set(string.Equals(n.Text, "Tw+Tc+Tr", StringComparison.OrdinalIgnoreCase) ? ResponseTimer.TwTcTr : Enum<ResponseTimer>(n, p), v => window.Timer = v);
                    break;
            }
        });

    private ServerOptions ReadServer(string name, ConfigNode node, string path)
    {
        var server = new ServerOptions { Name = name };
        Object(node, path, ["alwaysUp", "warmupUrl", "weight"], (key, n, p) =>
        {
            switch (key)
            {
                case "alwaysUp":
                    Set(Bool(n, p), v => server.AlwaysUp = v);
                    break;
                case "warmupUrl":
                    // Whether it is an absolute http(s) URL is a rule, checked with the options built in code.
                    if (String(n, p) is { } text)
                    {
                        if (Uri.TryCreate(text, UriKind.RelativeOrAbsolute, out Uri? url))
                        {
                            server.WarmupUrl = url;
                        }
                        else
                        {
                            _problems.Add(ConfigurationProblem.At(p, AutoscaleOptionsValidator.NotAnHttpUrl));
                        }
                    }

                    break;
                case "weight":
                    Set(Int(n, p), v => server.Weight = v);
                    break;
            }
        });
        return server;
    }

    // An object of known keys, matched case-insensitively and handed over under their canonical spelling (which
    // paths use); keys: null accepts any key as written. Returns false when the node is not an object.
    private bool Object(ConfigNode node, string path, string[]? keys, Action<string, ConfigNode, string> read)
    {
        if (node.Members() is not { } members)
        {
            _problems.Add(ConfigurationProblem.At(path, "expected an object"));
            return false;
        }

        foreach ((string written, ConfigNode value) in members)
        {
            string? key = keys is null ? written : Array.Find(keys, k => string.Equals(k, written, StringComparison.OrdinalIgnoreCase));
            string childPath = Child(path, key ?? written);
            if (key is null)
            {
                _problems.Add(ConfigurationProblem.At(childPath, "unknown key"));
            }
            else
            {
                read(key, value, childPath);
            }
        }

        return true;
    }

    // An object whose keys are names (backends, servers): kept as written, even "0" and "1".
    private void Names(ConfigNode node, string path, Action<string, ConfigNode, string> read) => Object(node, path, null, read);

    private void Items(ConfigNode node, string path, Action<ConfigNode, string> read)
    {
        if (node.Items() is not { } items)
        {
            _problems.Add(ConfigurationProblem.At(path, "expected an array"));
            return;
        }

        foreach ((string index, ConfigNode item) in items)
        {
            read(item, $"{path}[{index}]");
        }
    }

    private static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static void SetText(string? value, Action<string> set)
    {
        if (value is not null)
        {
            set(value);
        }
    }

    private static void Set<T>(T? value, Action<T> set)
        where T : struct
    {
        if (value is { } v)
        {
            set(v);
        }
    }

    private string? String(ConfigNode node, string path) => node.Text ?? Fail<string>(path, "expected a string");

    private bool? Bool(ConfigNode node, string path) =>
        bool.TryParse(node.Scalar, out bool value) ? value : FailValue<bool>(path, "expected true or false");

    private int? Int(ConfigNode node, string path) =>
        int.TryParse(node.Scalar, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : FailValue<int>(path, "expected an integer");

    private double? Double(ConfigNode node, string path) =>
        double.TryParse(node.Scalar, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) ? value : FailValue<double>(path, "expected a number");

    private TimeSpan? Duration(ConfigNode node, string path) =>
        Durations.TryParse(node.Text, out TimeSpan value) ? value : FailValue<TimeSpan>(path, DurationExpected);

    private T? Enum<T>(ConfigNode node, string path)
        where T : struct, Enum
    {
        if (String(node, path) is not { } text)
        {
            return null;
        }

        foreach (T candidate in System.Enum.GetValues<T>())
        {
            if (string.Equals(candidate.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        return FailValue<T>(path, $"'{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
    }

    private T? Fail<T>(string path, string message)
        where T : class
    {
        _problems.Add(ConfigurationProblem.At(path, message));
        return null;
    }

    private T? FailValue<T>(string path, string message)
        where T : struct
    {
        _problems.Add(ConfigurationProblem.At(path, message));
        return null;
    }
}
