namespace HaproxyAutoscale.Policies;

/// <summary>
/// The concurrency policy's samples of its stable window, oldest first, in a ring that an evaluation walks as two
/// spans of one array: at ten thousand backends a queue's enumerator was a sixth of the evaluation pass. Sums add in
/// the samples' order, as before, so the means are the same to the last bit.
/// </summary>
internal sealed class InFlightSamples
{
    private const int MaxSized = 4096; // samples; a window at a spacing that would want more grows as it fills

    private (long UtcTicks, double InFlight, double Arrivals)[] _ring = new (long, double, double)[4];
    private int _oldest;
    private int _count;

    /// <summary>Adds a sample and forgets those older than <paramref name="window"/> before it.</summary>
    public void Add(long utcTicks, double inFlight, double arrivals, TimeSpan window)
    {
        if (_count == _ring.Length)
        {
            Resize(_ring.Length + Math.Max(4, _ring.Length / 4)); // by a quarter: a ring held by each of 10,000 backends
        }

        _ring[(_oldest + _count) % _ring.Length] = (utcTicks, inFlight, arrivals);
        _count++;
        if (_count == 2)
        {
            // Sized once for a window at the spacing of the first two samples, instead of doubling five times over the
            // first minute (each new array, held by a backend, is scanned by the next young collection).
            // An eighth more (and 4): evaluations come a little early or late (a pass's own time varies), and at +2 most
            // rings of a 60 s window at 1 s overflowed and grew.
            long spacing = Math.Max(utcTicks - _ring[_oldest].UtcTicks, TimeSpan.TicksPerMillisecond);
            int fits = (int)Math.Min(window.Ticks / spacing, MaxSized);
            int wanted = fits + (fits / 8) + 4;
            if (wanted > _ring.Length)
            {
                Resize(wanted);
            }
        }

        long expired = utcTicks - window.Ticks;
        while (_ring[_oldest].UtcTicks <= expired) // the sample just added is newer: the ring never empties here
        {
            _oldest = (_oldest + 1) % _ring.Length;
            _count--;
        }
    }

    /// <summary>
    /// The mean in-flight of the samples after <paramref name="stableSince"/> and after <paramref name="panicSince"/>
    /// (UTC ticks), and the latter's mean arrival rate.
    /// </summary>
    public (double Stable, double Panic, double PanicArrivals) Means(long stableSince, long panicSince)
    {
        var sums = default(Sums);
        int first = Math.Min(_count, _ring.Length - _oldest);
        sums.Add(_ring.AsSpan(_oldest, first), stableSince, panicSince);
        sums.Add(_ring.AsSpan(0, _count - first), stableSince, panicSince);
        return (sums.StableCount == 0 ? 0 : sums.Stable / sums.StableCount, sums.PanicCount == 0 ? 0 : sums.Panic / sums.PanicCount,
            sums.PanicCount == 0 ? 0 : sums.Arrivals / sums.PanicCount);
    }

    private void Resize(int length)
    {
        var ring = new (long, double, double)[length];
        int first = Math.Min(_count, _ring.Length - _oldest);
        _ring.AsSpan(_oldest, first).CopyTo(ring);
        _ring.AsSpan(0, _count - first).CopyTo(ring.AsSpan(first));
        (_ring, _oldest) = (ring, 0);
    }

    private struct Sums
    {
        public double Stable, Panic, Arrivals;
        public int StableCount, PanicCount;

        public void Add(ReadOnlySpan<(long UtcTicks, double InFlight, double Arrivals)> samples, long stableSince, long panicSince)
        {
            foreach ((long time, double inFlight, double rate) in samples)
            {
                if (time > stableSince)
                {
                    (Stable, StableCount) = (Stable + inFlight, StableCount + 1);
                }

                if (time > panicSince)
                {
                    (Panic, Arrivals, PanicCount) = (Panic + inFlight, Arrivals + rate, PanicCount + 1);
                }
            }
        }
    }
}
