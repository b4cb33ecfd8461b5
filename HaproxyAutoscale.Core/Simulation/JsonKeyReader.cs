using System.Text.Json;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// Reading a JSON object whose keys are known: keys match case-insensitively, unknown keys and wrong values become
/// problems (<c>path: message</c>) instead of exceptions, so a file's problems are all reported at once.
/// </summary>
internal static class JsonKeyReader
{
    // A finite number of at least min, or null with "path: expected ..." added to the problems.
    public static double? Number(JsonElement value, string path, List<string> problems, double min, string expected)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double number) && double.IsFinite(number) && number >= min)
        {
            return number;
        }

        problems.Add($"{path}: expected {expected}");
        return null;
    }

    // Known keys matched case-insensitively and handed over in their canonical spelling; unknown keys are problems.
    public static bool Object(JsonElement element, string path, string[] keys, List<string> problems, Action<string, JsonElement, string> read)
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

    public static bool HasKey(JsonElement element, string key)
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
