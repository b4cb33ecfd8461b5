using System.Globalization;

namespace HaproxyAutoscale.Policies;

/// <summary>The checks the built-in policies' options share; each adds <c>(key, message)</c> problems.</summary>
internal static class PolicyRules
{
    // A latency a policy cannot work without (band's bounds, target's target): 0 is "not set".
    public static void RequiredMilliseconds(string kind, string key, double value, Action<string, string> addError)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            addError(key, $"required by the '{kind}' policy: a number of milliseconds more than 0");
        }
    }

    public static void Milliseconds(string key, double value, Action<string, string> addError)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            addError(key, "must be a number of milliseconds more than 0");
        }
    }

    public static void AtLeastOne(string key, int value, Action<string, string> addError)
    {
        if (value < 1)
        {
            addError(key, string.Create(CultureInfo.InvariantCulture, $"must be at least 1, not {value}"));
        }
    }

    public static void NotNegative(string key, double value, Action<string, string> addError)
    {
        if (!(value >= 0) || !double.IsFinite(value))
        {
            addError(key, "must be a number ≥ 0");
        }
    }

    public static void NotNegative(string key, TimeSpan value, Action<string, string> addError)
    {
        if (value < TimeSpan.Zero)
        {
            addError(key, "must not be negative");
        }
    }

    /// <summary>Throws when <paramref name="validate"/> finds any problem, listing them all.</summary>
    public static void ThrowIfInvalid(string kind, Action<Action<string, string>> validate)
    {
        var errors = new List<string>();
        validate((key, message) => errors.Add($"{key}: {message}"));
        if (errors.Count > 0)
        {
            throw new ArgumentException($"The '{kind}' policy options have {errors.Count} problem(s): {string.Join("; ", errors)}");
        }
    }
}
