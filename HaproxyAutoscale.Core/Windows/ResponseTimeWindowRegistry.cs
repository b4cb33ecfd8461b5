using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Windows;

/// <summary>Creates a backend's window from its options (<see cref="WindowOptions.Kind"/> names the factory).</summary>
public delegate IResponseTimeWindow ResponseTimeWindowFactory(WindowOptions options, TimeProvider timeProvider);

/// <summary>
/// The windows available by kind: the built-in <c>count</c>, <c>time</c> and <c>ewma</c> plus any registered. Kinds are
/// case-insensitive; registering a kind twice is an error, and so is configuring a kind nobody registered.
/// </summary>
public sealed class ResponseTimeWindowRegistry
{
    private readonly NamedFactories<ResponseTimeWindowFactory> _factories = new("window kind");

    /// <summary>A registry with <c>count</c>, <c>time</c> and <c>ewma</c>.</summary>
    public ResponseTimeWindowRegistry()
    {
        foreach (string kind in (string[])[WindowKinds.Count, WindowKinds.Time, WindowKinds.Ewma])
        {
            _factories.Add(kind, ResponseTimeWindows.Create, nameof(kind));
        }
    }

    /// <summary>The registered kinds.</summary>
    public IEnumerable<string> Names => _factories.Names;

    /// <summary>Registers a window under <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The kind is already registered.</exception>
    public ResponseTimeWindowRegistry Add(string kind, ResponseTimeWindowFactory factory)
    {
        _factories.Add(kind, factory, nameof(kind));
        return this;
    }

    /// <summary>Whether a window of that kind exists.</summary>
    public bool Contains(string kind) => _factories.Contains(kind);

    /// <summary>Creates the window <paramref name="options"/> describe.</summary>
    /// <exception cref="ArgumentException">No window of that kind is registered.</exception>
    public IResponseTimeWindow Create(WindowOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _factories.TryGet(options.Kind, out ResponseTimeWindowFactory? factory)
            ? factory(options, timeProvider)
            : throw new ArgumentException(_factories.Unknown("window kind", options.Kind), nameof(options));
    }
}
