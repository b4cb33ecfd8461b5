using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The log reader's lookup of a line's backend by the parser's pair (<see cref="HaproxyLogParser.LastPair"/>): what
/// it found is kept in the pair itself, so a line costs no lookup of its own whatever the number of backends. A
/// reload that replaces the set makes every pair look again. One reader per parser (not thread-safe).
/// </summary>
internal sealed class BackendsByPair(LiveBackends backends)
{
    /// <summary>The backend of <paramref name="pair"/>, or null for one not autoscaled.</summary>
    public ScaledBackend? Find(ServerPair pair)
    {
        LiveBackends.BackendSet set = backends.Current;
        if (ReferenceEquals(pair.FoundIn, set))
        {
            return (ScaledBackend?)pair.Found;
        }

        ScaledBackend? backend = set.ByName.GetValueOrDefault(pair.Backend);
        (pair.Found, pair.FoundIn) = (backend, set); // null too: a backend not autoscaled is not looked up again
        return backend;
    }
}
