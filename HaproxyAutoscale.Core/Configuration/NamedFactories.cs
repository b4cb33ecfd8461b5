using System.Diagnostics.CodeAnalysis;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// The name → factory table behind the public registries (policies, windows, providers): case-insensitive names,
/// registering a name twice is an error, an unknown name is reported with the known ones.
/// </summary>
internal sealed class NamedFactories<TFactory>(string what)
    where TFactory : Delegate
{
    private readonly Dictionary<string, TFactory> _factories = new(StringComparer.OrdinalIgnoreCase);

    public IEnumerable<string> Names => _factories.Keys;

    public void Add(string name, TFactory factory, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name, parameterName);
        ArgumentNullException.ThrowIfNull(factory);
        if (!_factories.TryAdd(name, factory))
        {
            throw new ArgumentException($"a {what} named '{name}' is already registered", parameterName);
        }
    }

    public bool Contains(string name) => _factories.ContainsKey(name);

    public bool TryGet(string? name, [NotNullWhen(true)] out TFactory? factory) => _factories.TryGetValue(name ?? "", out factory);

    /// <summary>"unknown policy 'x' (known: a, b)".</summary>
    public string Unknown(string noun, string? name) => $"unknown {noun} '{name}' (known: {string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal))})";
}
