using HaproxyAutoscale.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaproxyAutoscale.Providers;

/// <summary>Names of the built-in providers, as configured in <c>"provider": {"kind": …}</c>.</summary>
public static class ServerProviderNames
{
    /// <summary>Runs commands (argument arrays, no shell) to start, stop and ask the status of a server.</summary>
    public const string Exec = "exec";
}

/// <summary>
/// Creates a backend's provider from its settings; reads them through <see cref="ServerProviderSettings"/>' getters,
/// which collect problems instead of throwing.
/// </summary>
public delegate IServerProvider ServerProviderFactory(ServerProviderSettings settings);

/// <summary>
/// The settings of one backend's provider as configured, read by the provider's factory. Every problem is collected
/// with its configuration path; keys nobody read are reported as unknown.
/// </summary>
public sealed class ServerProviderSettings
{
    private readonly ServerProviderOptions _options;
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _errors = [];

    /// <summary>Creates settings; <paramref name="path"/> is the configuration path of the provider object (for messages).</summary>
    public ServerProviderSettings(string backend, ServerProviderOptions options, string path = "provider", ILoggerFactory? loggers = null)
    {
        Backend = backend;
        _options = options ?? throw new ArgumentNullException(nameof(options));
        Path = path;
        Loggers = loggers ?? NullLoggerFactory.Instance;
    }

    /// <summary>The backend.</summary>
    public string Backend { get; }

    /// <summary>The provider's name.</summary>
    public string Kind => _options.Kind;

    /// <summary>The configuration path of the provider object.</summary>
    public string Path { get; }

    /// <summary>Where the provider logs (the autoscaler's logger factory).</summary>
    public ILoggerFactory Loggers { get; }

    /// <summary>Problems found so far, each starting with its configuration path.</summary>
    public IReadOnlyList<string> Errors => _errors;

    /// <summary>A text setting, or <paramref name="defaultValue"/> when absent.</summary>
    public string? GetString(string key, string? defaultValue = null)
    {
        _read.Add(key);
        return _options.Settings.TryGetValue(key, out string? value) ? value : defaultValue;
    }

    /// <summary>A list setting (a JSON array of strings), or <see langword="null"/> when absent (a problem if <paramref name="required"/>).</summary>
    public IReadOnlyList<string>? GetList(string key, bool required = false)
    {
        _read.Add(key);
        if (_options.Lists.TryGetValue(key, out IList<string>? list))
        {
            return [.. list];
        }

        if (_options.Settings.ContainsKey(key))
        {
            AddError(key, "expected an array of strings");
        }
        else if (required)
        {
            AddError(key, $"required by the '{Kind}' provider");
        }

        return null;
    }

    /// <summary>Records a problem of a setting.</summary>
    public void AddError(string key, string message) => _errors.Add($"{Path}.{key}: {message}");

    /// <summary>Reports every key that no getter asked for (a typo would otherwise be silently ignored).</summary>
    internal void ReportUnknownKeys()
    {
        foreach (string key in _options.Settings.Keys.Concat(_options.Lists.Keys).Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal))
        {
            _errors.Add($"{Path}.{key}: unknown setting for the '{Kind}' provider");
        }
    }
}

/// <summary>
/// The providers available by name: <c>exec</c> plus any registered (<c>builder.Providers.Add("nomad", s => …)</c>, or
/// <c>AddServerProvider</c> on the host builder). Names are case-insensitive; registering a name twice is an error,
/// and so is configuring a name nobody registered.
/// </summary>
public sealed class ServerProviderRegistry
{
    private readonly NamedFactories<ServerProviderFactory> _factories = new("server provider");

    /// <summary>A registry with <c>exec</c>.</summary>
    public ServerProviderRegistry() => Add(ServerProviderNames.Exec, ExecServerProvider.Create);

    /// <summary>The registered names.</summary>
    public IEnumerable<string> Names => _factories.Names;

    /// <summary>Registers a provider under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is already registered.</exception>
    public ServerProviderRegistry Add(string name, ServerProviderFactory factory)
    {
        _factories.Add(name, factory, nameof(name));
        return this;
    }

    /// <summary>Whether a provider of that name exists.</summary>
    public bool Contains(string name) => _factories.Contains(name);

    /// <summary>
    /// Creates the provider <paramref name="settings"/> name; returns <see langword="null"/> and adds to
    /// <paramref name="errors"/> when the name is unknown or a setting is wrong.
    /// </summary>
    public IServerProvider? TryCreate(ServerProviderSettings settings, ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(errors);
        if (!_factories.TryGet(settings.Kind, out ServerProviderFactory? factory))
        {
            errors.Add($"{settings.Path}.kind: {_factories.Unknown("provider", settings.Kind)}");
            return null;
        }

        return NamedFactories<ServerProviderFactory>.Create(() => factory(settings), settings.Path, settings.ReportUnknownKeys, settings.Errors, errors);
    }
}

/// <summary>Creates a backend's provider for the engine.</summary>
internal static class ServerProviderRules
{
    /// <summary>The backend's provider from validated options (dry run: wrapped so that nothing is started or stopped), or <see langword="null"/>.</summary>
    public static IServerProvider? Create(BackendOptions backend, ServerProviderRegistry providers, ILoggerFactory loggers, ILogger? dryRun)
    {
        if (backend.Provider is not { } options)
        {
            return null;
        }

        var errors = new List<string>();
        IServerProvider provider = providers.TryCreate(new ServerProviderSettings(backend.Name, options, $"backends.{backend.Name}.provider", loggers), errors)
            ?? throw new ArgumentException($"invalid provider for backend '{backend.Name}': {string.Join("; ", errors)}", nameof(backend));
        return dryRun is null ? provider : new DryRunServerProvider(provider, dryRun);
    }
}
