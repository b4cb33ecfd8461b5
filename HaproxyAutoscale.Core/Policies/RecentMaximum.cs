namespace HaproxyAutoscale.Policies;

/// <summary>
/// The highest of the values added since a cutoff, as a queue of every (time, value) would give it, but kept as runs
/// of equal values (each with the time of its last value): a steady backend adds the same count every evaluation, and
/// a run of them is one entry instead of one per evaluation of the period. A run is dropped once its last value is
/// older than the cutoff, which is when the queue would have dropped its last value.
/// </summary>
internal sealed class RecentMaximum
{
    private readonly Queue<(DateTimeOffset Last, int Value)> _closed = new(); // runs before the current one, oldest first
    private (DateTimeOffset Last, int Value)? _current;

    /// <summary>Adds <paramref name="value"/> at <paramref name="now"/>, forgets what is older than <paramref name="cutoff"/>; returns the highest kept.</summary>
    public int Add(DateTimeOffset now, int value, DateTimeOffset cutoff)
    {
        // A run holds values in time order only (a clock that went back starts a new one), so its last is its newest.
        if (_current is { } run && run.Value == value && now >= run.Last)
        {
            _current = (now, value);
        }
        else
        {
            if (_current is { } ended)
            {
                _closed.Enqueue(ended);
            }

            _current = (now, value);
        }

        while (_closed.TryPeek(out (DateTimeOffset Last, int Value) oldest) && oldest.Last < cutoff)
        {
            _closed.Dequeue();
        }

        int highest = value;
        foreach ((_, int kept) in _closed)
        {
            highest = Math.Max(highest, kept);
        }

        return highest;
    }
}
