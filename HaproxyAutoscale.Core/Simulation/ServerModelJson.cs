using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// A <see cref="ServerModel"/> as JSON, the file <c>simulate --fit</c> prints and <c>simulate --model</c> reads:
/// <c>{"backends": [{"backend": "app", "serviceTimeQuantilesMs": [101 numbers], "workers": 4.2, "maxConn": 32,
/// "coldStartMs": 1000, "idleToColdS": 300, "fittedRequests": 123456}]}</c>. Keys are case-insensitive; only
/// <c>backend</c> and <c>serviceTimeQuantilesMs</c> are required, the others have <see cref="BackendModel"/>'s defaults.
/// </summary>
internal static class ServerModelJson
{
    /// <summary>How many quantiles a backend's service time has: p0 to p100.</summary>
    public const int QuantileCount = 101;

    private static readonly string[] RootKeys = ["backends"];
    private static readonly string[] BackendKeys = ["backend", "serviceTimeQuantilesMs", "workers", "maxConn", "coldStartMs", "idleToColdS", "fittedRequests"];

    /// <summary>Writes <paramref name="model"/> as one indented JSON object.</summary>
    public static string Write(ServerModel model)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, model);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Writes <paramref name="model"/> as one JSON object to <paramref name="writer"/>.</summary>
    public static void Write(Utf8JsonWriter writer, ServerModel model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(model);
        writer.WriteStartObject();
        writer.WriteStartArray("backends");
        foreach (BackendModel backend in model.Backends)
        {
            writer.WriteStartObject();
            writer.WriteString("backend", backend.Backend);
            writer.WriteStartArray("serviceTimeQuantilesMs");
            foreach (double quantile in backend.ServiceTimeQuantilesMs)
            {
                writer.WriteNumberValue(quantile);
            }

            writer.WriteEndArray();
            writer.WriteNumber("workers", backend.Workers);
            if (backend.MaxConn is int maxConn)
            {
                writer.WriteNumber("maxConn", maxConn);
            }
            else
            {
                writer.WriteNull("maxConn");
            }

            writer.WriteNumber("coldStartMs", backend.ColdStartMs);
            writer.WriteNumber("idleToColdS", backend.IdleToColdS);
            writer.WriteNumber("fittedRequests", backend.FittedRequests);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Reads a model written by <see cref="Write(ServerModel)"/> or by hand (comments and trailing commas allowed).</summary>
    /// <exception cref="ServerModelFormatException">The text is no valid model; every problem is listed with its path.</exception>
    public static ServerModel Read(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new ServerModelFormatException([$"(root): not valid JSON: {e.Message}"]);
        }

        using (document)
        {
            var problems = new List<string>();
            var model = new ServerModel();
            Object(document.RootElement, "", RootKeys, problems, (_, value, path) =>
            {
                if (value.ValueKind != JsonValueKind.Array)
                {
                    problems.Add($"{path}: expected an array");
                    return;
                }

                int index = 0;
                foreach (JsonElement item in value.EnumerateArray())
                {
                    if (ReadBackend(item, $"{path}[{index++}]", problems) is { } backend)
                    {
                        if (model.Find(backend.Backend) is not null)
                        {
                            problems.Add($"{path}[{index - 1}].backend: backend '{backend.Backend}' appears twice");
                        }

                        model.Backends.Add(backend);
                    }
                }
            });
            if (problems.Count == 0 && document.RootElement.ValueKind == JsonValueKind.Object && !HasKey(document.RootElement, "backends"))
            {
                problems.Add("backends: required");
            }

            return problems.Count == 0 ? model : throw new ServerModelFormatException(problems);
        }
    }

    private static BackendModel? ReadBackend(JsonElement element, string path, List<string> problems)
    {
        int before = problems.Count;
        var backend = new BackendModel();
        bool hasName = false, hasQuantiles = false;
        bool isObject = Object(element, path, BackendKeys, problems, (key, value, p) =>
        {
            switch (key)
            {
                case "backend":
                    hasName = true;
                    if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } name)
                    {
                        backend.Backend = name;
                    }
                    else
                    {
                        problems.Add($"{p}: expected a backend name");
                    }

                    break;
                case "serviceTimeQuantilesMs":
                    hasQuantiles = true;
                    ReadQuantiles(value, p, backend, problems);
                    break;
                case "workers":
                    if (Number(value, p, problems, 1, "a number of 1 or more") is double workers)
                    {
                        backend.Workers = workers;
                    }

                    break;
                case "maxConn":
                    if (value.ValueKind != JsonValueKind.Null)
                    {
                        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int maxConn) && maxConn >= 1)
                        {
                            backend.MaxConn = maxConn;
                        }
                        else
                        {
                            problems.Add($"{p}: expected a whole number of 1 or more, or null");
                        }
                    }

                    break;
                case "coldStartMs":
                    if (Number(value, p, problems, 0, "a number of milliseconds, 0 or more") is double coldStart)
                    {
                        backend.ColdStartMs = coldStart;
                    }

                    break;
                case "idleToColdS":
                    if (Number(value, p, problems, 0, "a number of seconds, 0 or more") is double idle)
                    {
                        backend.IdleToColdS = idle;
                    }

                    break;
                case "fittedRequests":
                    if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long fitted) && fitted >= 0)
                    {
                        backend.FittedRequests = fitted;
                    }
                    else
                    {
                        problems.Add($"{p}: expected a whole number, 0 or more");
                    }

                    break;
            }
        });
        if (isObject && !hasName)
        {
            problems.Add($"{path}.backend: required");
        }

        if (isObject && !hasQuantiles)
        {
            problems.Add($"{path}.serviceTimeQuantilesMs: required");
        }

        return problems.Count == before ? backend : null;
    }

    private static void ReadQuantiles(JsonElement value, string path, BackendModel backend, List<string> problems)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{path}: expected an array of {QuantileCount} numbers");
            return;
        }

        int index = 0;
        double previous = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            string itemPath = $"{path}[{index++}]";
            if (Number(item, itemPath, problems, 0, "a number of milliseconds, 0 or more") is not double quantile)
            {
                continue;
            }

            if (quantile < previous)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{itemPath}: {quantile} is less than the quantile before it ({previous}); quantiles go from p0 to p100, never decreasing"));
            }

            backend.ServiceTimeQuantilesMs.Add(quantile);
            previous = Math.Max(previous, quantile);
        }

        if (index != QuantileCount)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: expected {QuantileCount} quantiles (p0 to p100), found {index}"));
        }
    }

    private static double? Number(JsonElement value, string path, List<string> problems, double min, string expected)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number) && double.IsFinite(number) && number >= min)
        {
            return number;
        }

        problems.Add($"{path}: expected {expected}");
        return null;
    }

    // Known keys matched case-insensitively and handed over in their canonical spelling; unknown keys are problems.
    private static bool Object(JsonElement element, string path, string[] keys, List<string> problems, Action<string, JsonElement, string> read)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{(path.Length == 0 ? "(root)" : path)}: expected an object");
            return false;
        }

        foreach (JsonProperty property in element.EnumerateObject())
        {
            string? key = Array.Find(keys, k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase));
            string childPath = path.Length == 0 ? key ?? property.Name : $"{path}.{key ?? property.Name}";
            if (key is null)
            {
                problems.Add($"{childPath}: unknown key");
            }
            else
            {
                read(key, property.Value, childPath);
            }
        }

        return true;
    }

    private static bool HasKey(JsonElement element, string key)
    {
        foreach (JsonProperty property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, key, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A server model file that cannot be read: every problem, as <c>path: message</c>.</summary>
internal sealed class ServerModelFormatException : FormatException
{
    /// <summary>Creates the exception for <paramref name="errors"/>.</summary>
    public ServerModelFormatException(IReadOnlyList<string> errors)
        : base(Format(errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem, as <c>path: message</c>, e.g. <c>backends[0].workers: expected a number of 1 or more</c>.</summary>
    public IReadOnlyList<string> Errors { get; }

    private static string Format(IReadOnlyList<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return $"The server model has {errors.Count} problem(s):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
    }
}
