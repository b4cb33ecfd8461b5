using System.Collections;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The autoscaled backends now: an immutable set that a reload replaces in one write. Every reader (the log path per
/// line, the evaluation loop, the reconciler, the counter poller, the metrics) takes the current set once and works on
/// it; no lock is taken to read. Enumerating enumerates the set current when it starts.
/// </summary>
internal sealed class LiveBackends : IReadOnlyCollection<ScaledBackend>
{
    private volatile BackendSet _current;

    public LiveBackends(IEnumerable<ScaledBackend> backends) => _current = new BackendSet(backends);

    /// <summary>The backends in configuration order.</summary>
    public IReadOnlyList<ScaledBackend> Values => _current.InOrder;

    public int Count => _current.InOrder.Length;

    public bool TryGetValue(string name, [MaybeNullWhen(false)] out ScaledBackend backend) => _current.ByName.TryGetValue(name, out backend);

    /// <summary>The set now: a reader that caches lookups keeps them while this stays the same object.</summary>
    public BackendSet Current => _current;

    /// <summary>Makes <paramref name="backends"/> the set every reader sees from now on.</summary>
    public void Replace(IEnumerable<ScaledBackend> backends) => _current = new BackendSet(backends);

    public IEnumerator<ScaledBackend> GetEnumerator() => ((IEnumerable<ScaledBackend>)_current.InOrder).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>One version of the set (a reload makes a new one).</summary>
    internal sealed class BackendSet(IEnumerable<ScaledBackend> backends)
    {
        public ScaledBackend[] InOrder { get; } = [.. backends];

        public FrozenDictionary<string, ScaledBackend> ByName { get; } = backends.ToFrozenDictionary(b => b.Name, StringComparer.Ordinal);
    }
}
