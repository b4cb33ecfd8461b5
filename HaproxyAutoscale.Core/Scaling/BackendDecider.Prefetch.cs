using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>What the log reader and the evaluation pass ask of the CPU ahead of a decider's use (<see cref="CacheHints"/>).</summary>
internal sealed partial class BackendDecider
{
    /// <summary>
    /// Asks the CPU for the parts <see cref="OnRecord(in RequestRecord, DateTimeOffset)"/> will touch for
    /// <paramref name="record"/>, without the lock (a hint only). Not the decider itself nor its backend: asking for
    /// them too measured slower (<c>results/scale.md</c>).
    /// </summary>
    public void Prefetch(in RequestRecord record)
    {
        CacheHints.Prefetch(Window);
        CacheHints.Prefetch(_servers);
        _capacity.Prefetch(record);
    }

    /// <summary>Asks the CPU for the parts <see cref="Decide"/> reads first (the pass, a backend ahead; a hint only).</summary>
    public void PrefetchForDecide()
    {
        CacheHints.Prefetch(_policy, lines: 2);
        CacheHints.Prefetch(Window);
        CacheHints.Prefetch(_capacity);
        CacheHints.Prefetch(_servers);
        CacheHints.Prefetch(_counters);
    }
}
