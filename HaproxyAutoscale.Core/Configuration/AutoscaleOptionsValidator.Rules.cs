using System.Globalization;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Configuration;

// The checks every rule is written with, and the problems they collect.
public static partial class AutoscaleOptionsValidator
{
    // A check takes the section's path and its key apart and joins them only for a problem: a reload validates every
    // backend, and at 10,000 backends the paths made for values that passed were 14 of the 43 MB a validation
    // allocated (ConfigReloadBenchmarks).
    private sealed class Rules
    {
        public Rules() => AddProblem = Add;

        public List<ConfigurationProblem> Problems { get; } = [];

        /// <summary><see cref="Add"/> as one delegate, for the checks that live with their options.</summary>
        public Action<string, string> AddProblem { get; }

        public void Add(string path, string message) => Problems.Add(ConfigurationProblem.At(path, message));

        public void Positive(string at, string key, TimeSpan value)
        {
            if (value <= TimeSpan.Zero)
            {
                Add(OptionsReader.Child(at, key), "must be more than 0");
            }
        }

        public void NotNegative(string at, string key, TimeSpan value)
        {
            if (value < TimeSpan.Zero)
            {
                Add(OptionsReader.Child(at, key), "must not be negative");
            }
        }

        public bool Range(string at, string key, int value, int minimum, int maximum)
        {
            if (value >= minimum && value <= maximum)
            {
                return true;
            }

            // The file's wording: a value out of range reads the same as one that is no integer at all.
            Add(OptionsReader.Child(at, key), string.Create(CultureInfo.InvariantCulture, $"expected an integer from {minimum} to {maximum}"));
            return false;
        }

        public bool Defined<T>(string at, string key, T value)
            where T : struct, Enum
        {
            if (Enum.IsDefined(value))
            {
                return true;
            }

            Add(OptionsReader.Child(at, key), $"'{value}' is not one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
            return false;
        }

        // HAProxy's name characters (a ';' or a newline would let a command through), once per backend or server.
        public void Name(string at, string? name, string what, HashSet<string> seen)
        {
            if (name is null || !HaproxyControlExtensions.IsValidName(name))
            {
                Add(OptionsReader.Child(at, name ?? ""), $"'{name}' is not a valid HAProxy {what} name ({HaproxyNames.Description})");
            }
            else if (!seen.Add(name))
            {
                Add(OptionsReader.Child(at, name), $"the {what} '{name}' is configured twice");
            }
        }
    }
}
