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

    /// <summary>
    /// Runs a factory over settings that collect their problems: a factory that checks by throwing
    /// <see cref="ArgumentException"/> is a configuration problem, not a crash; then unread keys are reported. Returns
    /// the product, or <see langword="null"/> with every problem added to <paramref name="errors"/>.
    /// </summary>
    public static T? Create<T>(Func<T> factory, string path, Action reportUnknownKeys, IReadOnlyList<string> settingsErrors, ICollection<string> errors)
        where T : class
    {
        T product;
        try
        {
            product = factory();
        }
        catch (ArgumentException e)
        {
            errors.Add($"{path}: {e.Message}");
            return null;
        }

        reportUnknownKeys();
        foreach (string error in settingsErrors)
        {
            errors.Add(error);
        }

        return settingsErrors.Count == 0 ? product : null;
    }

    /// <summary>"unknown policy 'x' (known: a, b)".</summary>
    public string Unknown(string noun, string? name) => $"unknown {noun} '{name}' (known: {string.Join(", ", _factories.Keys.Order(StringComparer.Ordinal))})";
}
