using System.Globalization;
using System.Text.Json;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// Reads the <see cref="ServerModelJson"/> format: every problem is collected with its path (<c>backends[0].workers</c>)
/// and reported at once in a <see cref="ServerModelFormatException"/>.
/// </summary>
internal static class ServerModelJsonReader
{
    private static readonly string[] RootKeys = ["backends"];
    private static readonly string[] BackendKeys = ["backend", "serviceTimeQuantilesMs", "workers", "maxConn", "coldStartMs", "idleToColdS", "fittedRequests"];

    /// <summary>Reads a model (comments and trailing commas allowed).</summary>
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
            JsonKeyReader.Object(document.RootElement, "", RootKeys, problems, (_, value, path) =>
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
            if (problems.Count == 0 && document.RootElement.ValueKind == JsonValueKind.Object && !JsonKeyReader.HasKey(document.RootElement, "backends"))
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
        bool isObject = JsonKeyReader.Object(element, path, BackendKeys, problems, (key, value, p) =>
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
                    backend.Workers = JsonKeyReader.Number(value, p, problems, 1, "a number of 1 or more") ?? backend.Workers;
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
                    backend.ColdStartMs = JsonKeyReader.Number(value, p, problems, 0, "a number of milliseconds, 0 or more") ?? backend.ColdStartMs;
                    break;
                case "idleToColdS":
                    backend.IdleToColdS = JsonKeyReader.Number(value, p, problems, 0, "a number of seconds, 0 or more") ?? backend.IdleToColdS;
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
            problems.Add($"{path}: expected an array of {ServerModelJson.QuantileCount} numbers");
            return;
        }

        int index = 0;
        double previous = 0;
        foreach (JsonElement item in value.EnumerateArray())
        {
            string itemPath = $"{path}[{index++}]";
            if (JsonKeyReader.Number(item, itemPath, problems, 0, "a number of milliseconds, 0 or more") is not double quantile)
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

        if (index != ServerModelJson.QuantileCount)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}: expected {ServerModelJson.QuantileCount} quantiles (p0 to p100), found {index}"));
        }
    }
}
