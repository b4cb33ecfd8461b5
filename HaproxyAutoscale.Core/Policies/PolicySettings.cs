using System.Globalization;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// The settings of one backend's policy as configured (<c>"policy": {"kind": "threshold", "thresholdMs": 800}</c>),
/// read by the policy's factory with typed getters. Every problem is collected with its JSON path instead of thrown,
/// so configuration errors are reported all at once; keys nobody read are reported as unknown.
/// </summary>
public sealed class PolicySettings
{
    private readonly Dictionary<string, KeyValuePair<string, string>> _values;
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _errors = [];

    /// <summary>Creates settings; <paramref name="path"/> is the JSON path of the policy object (for messages).</summary>
    public PolicySettings(string kind, IReadOnlyDictionary<string, string> values, string path = "policy")
    {
        Kind = kind;
        Path = path;
        // Keys match case-insensitively; messages use the key as written.
        _values = new Dictionary<string, KeyValuePair<string, string>>(StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, string> pair in values)
        {
            _values[pair.Key] = pair;
        }
    }

    /// <summary>The policy's name.</summary>
    public string Kind { get; }

    /// <summary>The JSON path of the policy object.</summary>
    public string Path { get; }

    /// <summary>Problems found so far, each starting with its JSON path.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>A text setting, or <paramref name="defaultValue"/> when absent.</summary>
    public string GetString(string key, string defaultValue)
    {
        _read.Add(key);
        return _values.TryGetValue(key, out KeyValuePair<string, string> written) ? written.Value : defaultValue;
    }

    /// <summary>A duration setting (<c>"5m"</c>, <c>"00:05:00"</c>), or <paramref name="defaultValue"/> when absent.</summary>
    public TimeSpan GetDuration(string key, TimeSpan defaultValue) =>
        Read(key, defaultValue, text => Durations.TryParse(text, out TimeSpan value) ? value : null, "a duration such as \"30s\", \"5m\" or \"00:05:00\"");

    /// <summary>An integer setting at least <paramref name="minimum"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public int GetInt32(string key, int defaultValue, int minimum = 0) =>
        Read(key, defaultValue, text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= minimum ? value : null, $"an integer ≥ {minimum}");

    /// <summary>A number setting at least <paramref name="minimum"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public double GetDouble(string key, double defaultValue, double minimum = 0) =>
        Read(key, defaultValue, text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= minimum ? value : null, $"a number ≥ {minimum.ToString(CultureInfo.InvariantCulture)}");

    // Type-only getters for the built-in policies, whose ranges are their options' rules (see ThresholdPolicyOptions.Validate).
    internal int GetInteger(string key, int defaultValue) =>
        Read(key, defaultValue, text => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : null, "an integer");

    internal double GetNumber(string key, double defaultValue) =>
        Read(key, defaultValue, text => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) ? value : null, "a number");

    /// <summary>A required number setting above 0.</summary>
    public double GetRequiredPositive(string key)
    {
        if (!_values.ContainsKey(key))
        {
            _read.Add(key);
            _errors.Add($"{Path}.{key}: required by the '{Kind}' policy");
            return 1;
        }

        double value = GetDouble(key, 1, double.Epsilon);
        return value;
    }

    /// <summary>Records a problem that involves several settings.</summary>
    public void AddError(string key, string message) => _errors.Add($"{Path}.{key}: {message}");

    /// <summary>Reports every key that no getter asked for (a typo would otherwise be silently ignored).</summary>
    internal void ReportUnknownKeys()
    {
        foreach (string key in _values.Values.Select(v => v.Key).Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal))
        {
            _errors.Add($"{Path}.{key}: unknown setting for the '{Kind}' policy");
        }
    }

    private T Read<T>(string key, T defaultValue, Func<string, T?> parse, string expected)
        where T : struct
    {
        _read.Add(key);
        if (!_values.TryGetValue(key, out KeyValuePair<string, string> written))
        {
            return defaultValue;
        }

        if (parse(written.Value) is T value)
        {
            return value;
        }

        _errors.Add($"{Path}.{written.Key}: '{written.Value}' is not {expected}");
        return defaultValue;
    }
}
