using System.Text.Json;
using Microsoft.Extensions.Configuration;

namespace HaproxyAutoscale.Configuration;

/// <summary>The outcome of reading a configuration: the options, or every problem found, each with its path.</summary>
/// <param name="Options">The options, when there is no error.</param>
/// <param name="Errors">Problems as <c>path: message</c>: what could not be read (in document order), then the rules broken.</param>
public sealed record ConfigurationResult(AutoscaleOptions? Options, IReadOnlyList<string> Errors)
{
    /// <summary>Whether the configuration is valid.</summary>
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Reads the configuration without reflection, from a JSON file or any <see cref="IConfiguration"/>: keys are
/// case-insensitive, durations are <c>"00:05:00"</c> or <c>"5m"</c>/<c>"30s"</c>/<c>"250ms"</c>, unknown keys are errors
/// (a typo must not be ignored). The options read then meet <see cref="AutoscaleOptionsValidator"/>, as options built
/// in code do, and every problem is reported at once with its path, e.g.
/// <c>backends.app.servers.s2.warmupUrl: not an absolute http(s) URL</c>.
/// </summary>
public static class AutoscaleConfiguration
{
    /// <summary>
    /// Parses and validates a JSON configuration (comments and trailing commas allowed). Each backend's policy, window
    /// and provider are checked against <paramref name="registries"/>: what the embedder registered, or the built-in
    /// ones when <see langword="null"/>.
    /// </summary>
    public static ConfigurationResult Parse(string json, AutoscaleRegistries? registries = null)
    {
        ArgumentNullException.ThrowIfNull(json);
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
            return Read(ConfigNode.From(document.RootElement), registries ?? new AutoscaleRegistries());
        }
    }

    /// <summary>
    /// Reads and validates a <c>Microsoft.Extensions.Configuration</c> section (appsettings.json, environment
    /// variables…) with the same keys, defaults and rules as the JSON file. Values there are text; numbers and booleans
    /// are parsed. Backends and servers are objects keyed by name (a server may be named <c>0</c>);
    /// <c>haproxy.endpoints</c> is an array, stored by configuration providers as keys <c>0</c>, <c>1</c>… Choices are
    /// checked against <paramref name="registries"/>, or the built-in ones when <see langword="null"/>.
    /// </summary>
    public static ConfigurationResult Read(IConfiguration configuration, AutoscaleRegistries? registries = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return Read(ConfigNode.From(configuration), registries ?? new AutoscaleRegistries());
    }

    private static ConfigurationResult Read(ConfigNode root, AutoscaleRegistries registries)
    {
        var problems = new List<ConfigurationProblem>();
        if (OptionsReader.Read(root, problems) is not { } options)
        {
            return new ConfigurationResult(null, [.. problems.Select(p => p.Text)]);
        }

        // A value that could not be read is not judged again (a backend that is not an object has no servers).
        List<ConfigurationProblem> unread = [.. problems];
        problems.AddRange(AutoscaleOptionsValidator.Problems(options, registries).Where(rule => !unread.Exists(p => rule.IsUnder(p.Path))));
        return new ConfigurationResult(problems.Count == 0 ? options : null, [.. problems.Select(p => p.Text)]);
    }
}
