using System.Globalization;

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
/// Reads any <see cref="ConfigNode"/> into options along <see cref="OptionsSchema"/>: keys are case-insensitive,
/// unknown keys are errors, and only the shape and types are checked here (an integer, a duration, an object). The
/// rules that values must follow are <see cref="AutoscaleOptionsValidator"/>'s, the same for every entry path.
/// </summary>
internal sealed class OptionsReader
{
    private const string DurationExpected = "expected a duration such as \"30s\", \"5m\", \"250ms\" or \"00:05:00\"";

    private readonly List<ConfigurationProblem> _problems;

    private OptionsReader(List<ConfigurationProblem> problems) => _problems = problems;

    /// <summary>Reads <paramref name="root"/> into options, adding every shape or type problem to <paramref name="problems"/>.</summary>
    public static AutoscaleOptions? Read(ConfigNode root, List<ConfigurationProblem> problems)
    {
        var options = new AutoscaleOptions();
        return OptionsSchema.Root.Read(new OptionsReader(problems), root, "", options) ? options : null;
    }

    public static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    public void Problem(string path, string message) => _problems.Add(ConfigurationProblem.At(path, message));

    public void Items(ConfigNode node, string path, Action<ConfigNode, string> read)
    {
        if (node.Items() is not { } items)
        {
            Problem(path, "expected an array");
            return;
        }

        foreach ((string index, ConfigNode item) in items)
        {
            read(item, $"{path}[{index}]");
        }
    }

    public string? String(ConfigNode node, string path) => node.Text ?? Fail<string>(path, "expected a string");

    public bool? Bool(ConfigNode node, string path) =>
        bool.TryParse(node.Scalar, out bool value) ? value : FailValue<bool>(path, "expected true or false");

    public int? Int(ConfigNode node, string path) =>
        int.TryParse(node.Scalar, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : FailValue<int>(path, "expected an integer");

    public double? Double(ConfigNode node, string path) =>
        double.TryParse(node.Scalar, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) ? value : FailValue<double>(path, "expected a number");

    public TimeSpan? Duration(ConfigNode node, string path) =>
        Durations.TryParse(node.Text, out TimeSpan value) ? value : FailValue<TimeSpan>(path, DurationExpected);

    public T? Enum<T>(ConfigNode node, string path)
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
        Problem(path, message);
        return null;
    }

    private T? FailValue<T>(string path, string message)
        where T : struct
    {
        Problem(path, message);
        return null;
    }
}
