using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Configuration;

/// <summary>The outcome of reading a configuration: the options, or every problem found, each with its JSON path.</summary>
/// <param name="Options">The options, when there is no error.</param>
/// <param name="Errors">Problems as <c>path: message</c>, in document order.</param>
public sealed record ConfigurationResult(AutoscaleOptions? Options, IReadOnlyList<string> Errors)
{
    /// <summary>Whether the configuration is valid.</summary>
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Reads the JSON configuration (DESIGN §4) without reflection: keys are case-insensitive, durations are
/// <c>"00:05:00"</c> or <c>"5m"</c>/<c>"30s"</c>/<c>"250ms"</c>, unknown keys are errors (a typo must not be ignored), and
/// every problem is reported at once with its path, e.g. <c>backends.app.servers.s2.warmupUrl: not an absolute http(s) URL</c>.
/// </summary>
public static class AutoscaleConfiguration
{
    /// <summary>
    /// Reads a <c>Microsoft.Extensions.Configuration</c> section (appsettings.json, environment variables…) with the
    /// same keys, defaults and validation as the JSON file. Values there are text; numbers and booleans are parsed.
    /// </summary>
    public static ConfigurationResult Parse(IConfiguration configuration) => Parse(configuration, new ScalingPolicyRegistry());

    /// <summary>Reads a configuration section; policies are checked against <paramref name="policies"/>.</summary>
    public static ConfigurationResult Parse(IConfiguration configuration, ScalingPolicyRegistry policies)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var buffer = new System.IO.MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteSection(writer, configuration.GetChildren());
        }

        return Parse(System.Text.Encoding.UTF8.GetString(buffer.ToArray()), policies);
    }

    // Sections whose keys are 0..n-1 are arrays (that is how configuration providers store them).
    private static void WriteSection(Utf8JsonWriter writer, IEnumerable<IConfigurationSection> children)
    {
        List<IConfigurationSection> items = [.. children];
        bool isArray = items.Count > 0 && items.Select((c, i) => c.Key == i.ToString(CultureInfo.InvariantCulture)).All(b => b);
        if (isArray)
        {
            writer.WriteStartArray();
        }
        else
        {
            writer.WriteStartObject();
        }

        foreach (IConfigurationSection child in items)
        {
            if (!isArray)
            {
                writer.WritePropertyName(child.Key);
            }

            if (child.Value is { } value && !child.GetChildren().Any())
            {
                writer.WriteStringValue(value);
            }
            else
            {
                WriteSection(writer, child.GetChildren());
            }
        }

        if (isArray)
        {
            writer.WriteEndArray();
        }
        else
        {
            writer.WriteEndObject();
        }
    }

    /// <summary>Parses and validates <paramref name="json"/> with the built-in policies.</summary>
    public static ConfigurationResult Parse(string json) => Parse(json, new ScalingPolicyRegistry());

    /// <summary>Parses and validates <paramref name="json"/>; policies are checked against <paramref name="policies"/>.</summary>
    public static ConfigurationResult Parse(string json, ScalingPolicyRegistry policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        var errors = new List<string>();
        var options = new AutoscaleOptions();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            return new ConfigurationResult(null, [$"(file): not valid JSON: {e.Message}"]);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new ConfigurationResult(null, ["(root): expected a JSON object"]);
            }

            var reader = new Reader(errors);
            reader.Object(document.RootElement, "", (key, value, path) =>
            {
                switch (key)
                {
                    case "haproxy":
                        reader.Object(value, path, (k, v, p) =>
                        {
                            switch (k)
                            {
                                case "endpoints":
                                    foreach ((JsonElement item, string itemPath) in reader.Array(v, p))
                                    {
                                        if (reader.String(item, itemPath) is { } address)
                                        {
                                            if (HaproxyEndpoint.TryParse(address, out _, out string? error))
                                            {
                                                options.Endpoints.Add(address);
                                            }
                                            else
                                            {
                                                errors.Add($"{itemPath}: {error}");
                                            }
                                        }
                                    }

                                    break;
                                case "timeout":
                                    options.CommandTimeout = reader.Duration(v, p) ?? options.CommandTimeout;
                                    break;
                                default:
                                    return false;
                            }

                            return true;
                        });
                        return true;
                    case "logs":
                        reader.Object(value, path, (k, v, p) =>
                        {
                            if (k != "source")
                            {
                                return false;
                            }

                            if (reader.String(v, p) is { } source)
                            {
                                if (LogSources.Validate(source) is { } error)
                                {
                                    errors.Add($"{p}: {error}");
                                }

                                options.LogSource = source;
                            }

                            return true;
                        });
                        return true;
                    case "warmup":
                        WarmupOptions warmup = options.Warmup;
                        reader.Object(value, path, (k, v, p) =>
                        {
                            switch (k)
                            {
                                case "timeout":
                                    warmup.Timeout = reader.PositiveDuration(v, p) ?? warmup.Timeout;
                                    return true;
                                case "attempts":
                                    warmup.Attempts = reader.Int(v, p, 1, 100) ?? warmup.Attempts;
                                    return true;
                                case "retrydelay":
                                    warmup.RetryDelay = reader.Duration(v, p) ?? warmup.RetryDelay;
                                    return true;
                                case "failurebackoff":
                                    warmup.FailureBackoff = reader.Duration(v, p) ?? warmup.FailureBackoff;
                                    return true;
                                case "minstatus":
                                    warmup.MinStatus = reader.Int(v, p, 100, 599) ?? warmup.MinStatus;
                                    return true;
                                case "maxstatus":
                                    warmup.MaxStatus = reader.Int(v, p, 100, 599) ?? warmup.MaxStatus;
                                    return true;
                                default:
                                    return false;
                            }
                        });
                        return true;
                    case "evaluationinterval":
                        options.EvaluationInterval = reader.PositiveDuration(value, path) ?? options.EvaluationInterval;
                        return true;
                    case "reconcileinterval":
                        options.ReconcileInterval = reader.PositiveDuration(value, path) ?? options.ReconcileInterval;
                        return true;
                    case "backends":
                        reader.Object(value, path, (name, v, p) =>
                        {
                            options.Backends.Add(ReadBackend(reader, name, v, p, policies));
                            return true;
                        }, keysAreNames: true);
                        return true;
                    default:
                        return false;
                }
            });

            if (options.Backends.Count == 0 && !errors.Any(e => e.StartsWith("backends", StringComparison.Ordinal)))
            {
                errors.Add("backends: at least one backend is required");
            }
        }

        return new ConfigurationResult(errors.Count == 0 ? options : null, errors);
    }

    private static BackendOptions ReadBackend(Reader reader, string name, JsonElement element, string path, ScalingPolicyRegistry policies)
    {
        var backend = new BackendOptions { Name = name };
        if (!HaproxyControlExtensions.IsValidName(name))
        {
            reader.Errors.Add($"{path}: '{name}' is not a valid HAProxy backend name (letters, digits, '_', ':', '.', '-')");
        }

        string policyPath = path + ".policy";
        reader.Object(element, path, (key, value, p) =>
        {
            switch (key)
            {
                case "window":
                    backend.Window = ReadWindow(reader, value, p);
                    break;
                case "policy":
                    policyPath = p;
                    reader.Object(value, p, (k, v, pp) =>
                    {
                        if (k == "kind")
                        {
                            backend.PolicyKind = reader.String(v, pp) ?? backend.PolicyKind;
                        }
                        else
                        {
                            backend.PolicySettings[reader.OriginalKey] = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
                        }

                        return true;
                    });
                    break;
                case "scaledown":
                    reader.Object(value, p, (k, v, pp) =>
                    {
                        switch (k)
                        {
                            case "mode":
                                backend.ScaleDown.Mode = reader.Enum(v, pp, backend.ScaleDown.Mode);
                                return true;
                            case "draintimeout":
                                backend.ScaleDown.DrainTimeout = reader.PositiveDuration(v, pp) ?? backend.ScaleDown.DrainTimeout;
                                return true;
                            default:
                                return false;
                        }
                    });
                    break;
                case "selection":
                    backend.Selection = reader.Enum(value, p, backend.Selection);
                    break;
                case "minactive":
                    backend.MinActive = reader.Int(value, p, 0, 10_000);
                    break;
                case "maxactive":
                    backend.MaxActive = reader.Int(value, p, 1, 10_000);
                    break;
                case "settletime":
                    backend.SettleTime = reader.Duration(value, p) ?? backend.SettleTime;
                    break;
                case "servers":
                    reader.Object(value, p, (serverName, v, pp) =>
                    {
                        backend.Servers.Add(ReadServer(reader, serverName, v, pp));
                        return true;
                    }, keysAreNames: true);
                    break;
                default:
                    return false;
            }

            return true;
        });

        if (backend.Servers.Count == 0)
        {
            reader.Errors.Add($"{path}.servers: at least one server is required");
        }

        if (backend.MinActive > backend.Servers.Count && backend.Servers.Count > 0)
        {
            reader.Errors.Add($"{path}.minActive: {backend.MinActive} is more than the {backend.Servers.Count} configured servers");
        }

        if (backend.MaxActive is { } max && max < backend.EffectiveMinActive)
        {
            reader.Errors.Add($"{path}.maxActive: {max} is below the minimum of {backend.EffectiveMinActive} (minActive and alwaysUp servers)");
        }

        var settings = new PolicySettings(backend.PolicyKind, backend.PolicySettings.ToDictionary(), policyPath);
        var policyErrors = new List<string>();
        policies.TryCreate(settings, policyErrors);
        reader.Errors.AddRange(policyErrors);
        return backend;
    }

    private static WindowOptions ReadWindow(Reader reader, JsonElement element, string path)
    {
        var window = new WindowOptions();
        reader.Object(element, path, (key, value, p) =>
        {
            switch (key)
            {
                case "kind":
                    string? kind = reader.String(value, p)?.ToLowerInvariant();
                    if (kind is WindowKinds.Count or WindowKinds.Time or WindowKinds.Ewma)
                    {
                        window.Kind = kind;
                    }
                    else if (kind is not null)
                    {
                        reader.Errors.Add($"{p}: unknown window kind '{kind}' (use count, time or ewma)");
                    }

                    break;
                case "size":
                    window.Size = reader.Int(value, p, 1, 1_000_000) ?? window.Size;
                    break;
                case "duration":
                    window.Duration = reader.PositiveDuration(value, p) ?? window.Duration;
                    break;
                case "halflife":
                    window.HalfLife = reader.PositiveDuration(value, p) ?? window.HalfLife;
                    break;
                case "statistic":
                    window.Statistic = reader.Enum(value, p, window.Statistic);
                    break;
                case "timer":
                    // "Tw+Tc+Tr" as written in HAProxy's docs, or the enum name.
                    window.Timer = value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), "Tw+Tc+Tr", StringComparison.OrdinalIgnoreCase)
                        ? ResponseTimer.TwTcTr
                        : reader.Enum(value, p, window.Timer);
                    break;
                default:
                    return false;
            }

            return true;
        });
        if (window.Kind == WindowKinds.Ewma && window.Statistic != WindowStatistic.Mean)
        {
            reader.Errors.Add($"{path}.statistic: an ewma window reports only the mean");
        }

        return window;
    }

    private static ServerOptions ReadServer(Reader reader, string name, JsonElement element, string path)
    {
        var server = new ServerOptions { Name = name };
        if (!HaproxyControlExtensions.IsValidName(name))
        {
            reader.Errors.Add($"{path}: '{name}' is not a valid HAProxy server name (letters, digits, '_', ':', '.', '-')");
        }

        reader.Object(element, path, (key, value, p) =>
        {
            switch (key)
            {
                case "alwaysup":
                    server.AlwaysUp = reader.Bool(value, p) ?? false;
                    break;
                case "warmupurl":
                    if (reader.String(value, p) is { } text)
                    {
                        if (Uri.TryCreate(text, UriKind.Absolute, out Uri? url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
                        {
                            server.WarmupUrl = url;
                        }
                        else
                        {
                            reader.Errors.Add($"{p}: not an absolute http(s) URL");
                        }
                    }

                    break;
                case "weight":
                    server.Weight = reader.Int(value, p, 1, 256) ?? server.Weight;
                    break;
                default:
                    return false;
            }

            return true;
        });
        return server;
    }

    /// <summary>Walks JSON with case-insensitive keys, collecting errors with their paths.</summary>
    private sealed class Reader(List<string> errors)
    {
        public List<string> Errors { get; } = errors;

        public string OriginalKey { get; private set; } = "";

        // The callback returns false for an unknown key. With keysAreNames, keys are names (backends, servers), kept as written.
        public void Object(JsonElement element, string path, Func<string, JsonElement, string, bool> onProperty, bool keysAreNames = false)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                Errors.Add($"{Display(path)}: expected an object");
                return;
            }

            foreach (JsonProperty property in element.EnumerateObject())
            {
                string childPath = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                OriginalKey = property.Name;
                string key = keysAreNames ? property.Name : property.Name.ToLowerInvariant();
                if (!onProperty(key, property.Value, childPath))
                {
                    Errors.Add($"{childPath}: unknown key");
                }
            }
        }

        public IEnumerable<(JsonElement Item, string Path)> Array(JsonElement element, string path)
        {
            if (element.ValueKind != JsonValueKind.Array)
            {
                Errors.Add($"{path}: expected an array");
                return [];
            }

            return element.EnumerateArray().Select((item, i) => (item, $"{path}[{i}]")).ToList();
        }

        public string? String(JsonElement element, string path)
        {
            if (element.ValueKind == JsonValueKind.String)
            {
                return element.GetString();
            }

            Errors.Add($"{path}: expected a string");
            return null;
        }

        public bool? Bool(JsonElement element, string path)
        {
            if (element.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return element.GetBoolean();
            }

            // Microsoft.Extensions.Configuration holds every value as text.
            if (element.ValueKind == JsonValueKind.String && bool.TryParse(element.GetString(), out bool parsed))
            {
                return parsed;
            }

            Errors.Add($"{path}: expected true or false");
            return null;
        }

        public int? Int(JsonElement element, string path, int minimum, int maximum)
        {
            int value = 0;
            bool isInt = element.ValueKind == JsonValueKind.Number ? element.TryGetInt32(out value)
                : element.ValueKind == JsonValueKind.String && int.TryParse(element.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
            if (isInt && value >= minimum && value <= maximum)
            {
                return value;
            }

            Errors.Add($"{path}: expected an integer from {minimum} to {maximum.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }

        public TimeSpan? Duration(JsonElement element, string path)
        {
            if (element.ValueKind == JsonValueKind.String && Durations.TryParse(element.GetString(), out TimeSpan value))
            {
                return value;
            }

            Errors.Add($"{path}: expected a duration such as \"30s\", \"5m\", \"250ms\" or \"00:05:00\"");
            return null;
        }

        public TimeSpan? PositiveDuration(JsonElement element, string path)
        {
            TimeSpan? value = Duration(element, path);
            if (value == TimeSpan.Zero)
            {
                Errors.Add($"{path}: must be more than 0");
                return null;
            }

            return value;
        }

        public T Enum<T>(JsonElement element, string path, T defaultValue)
            where T : struct, Enum
        {
            if (String(element, path) is { } text)
            {
                foreach (T candidate in System.Enum.GetValues<T>())
                {
                    if (string.Equals(candidate.ToString(), text, StringComparison.OrdinalIgnoreCase))
                    {
                        return candidate;
                    }
                }

                Errors.Add($"{path}: '{text}' is not one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
            }

            return defaultValue;
        }

        private static string Display(string path) => path.Length == 0 ? "(root)" : path;
    }
}
