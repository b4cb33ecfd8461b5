using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The log reader's lookup of a line's backend by the parser's pair id (<see cref="HaproxyLogParser.LastPairId"/>):
/// an array index per line instead of hashing the backend's name, whatever the number of backends. Forgets what it
/// found when a reload replaces the set. One reader only (not thread-safe).
/// </summary>
internal sealed class BackendsByPair(LiveBackends backends)
{
    private LiveBackends.BackendSet _set = backends.Current;
    private PairIdMap<ScaledBackend> _byPair = new();

    /// <summary>The backend named <paramref name="name"/>, or null for one not autoscaled.</summary>
    public ScaledBackend? Find(string name, int pairId)
    {
        LiveBackends.BackendSet set = backends.Current;
        if (!ReferenceEquals(set, _set))
        {
            (_set, _byPair) = (set, new PairIdMap<ScaledBackend>());
        }

        if (_byPair.TryGet(pairId, out ScaledBackend? backend))
        {
            return backend;
        }

        backend = set.ByName.GetValueOrDefault(name);
        _byPair.Set(pairId, backend); // null too: a backend not autoscaled is not looked up again
        return backend;
    }
}
