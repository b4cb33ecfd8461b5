using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// HAProxy's Lua hold (<c>haproxy-autoscale lua</c>) for a backend that may go to zero, as the simulator plays it:
/// while no server is usable a request is held, the first one held sends a wake line at once, a changing count is
/// reported at most every 100 ms and an unchanged one every second; each held request looks for a usable server every
/// 50 ms (so it goes on at its first look after one is enabled) and past the deadline it is answered 503. Keeps the
/// figures of <see cref="ZeroSimulation"/>.
/// </summary>
internal sealed class SimulatedHold
{
    // The Lua script's constants.
    private const long PollMs = 50, WakeChangeMs = 100, WakeRepeatMs = 1000;

    private readonly PriorityQueue<long, long> _held = new(); // arrival times of the requests held now
    private readonly List<int> _waits = [];
    private readonly long _deadlineMs;
    private long _lastWake = long.MinValue;
    private int _reported;
    private long _pastDeadline;
    private long? _wakeStarted;
    private readonly List<int> _wakeToReady = [];

    /// <param name="deadline">The hold's deadline; a held request looks at its deadline every 50 ms, so it is rounded up to that.</param>
    public SimulatedHold(TimeSpan deadline) =>
        _deadlineMs = Math.Max(PollMs, (long)Math.Ceiling(deadline.TotalMilliseconds / PollMs) * PollMs);

    /// <summary>
    /// Whether the simulated backend may go to zero: its configuration's <c>minActive</c> is 0, no server is
    /// <c>alwaysUp</c>, and a policy runs it (not a static count). Only such a backend is given the hold.
    /// </summary>
    public static bool Applies(BackendOptions backend, SimulationOptions simulation) =>
        simulation.StaticServers is null && backend.MinActive == 0 && !backend.Servers.Any(s => s.AlwaysUp);

    /// <summary>Requests held now.</summary>
    public int Count => _held.Count;

    /// <summary>When the oldest held request is answered 503, or <see cref="long.MaxValue"/>.</summary>
    public long Expiry => _held.TryPeek(out long arrival, out _) ? arrival + _deadlineMs : long.MaxValue;

    /// <summary>When a held request next looks at the backend and may send a wake line, or <see cref="long.MaxValue"/>.</summary>
    public long NextWakeCheck => _held.Count == 0 ? long.MaxValue : _lastWake + (_held.Count != _reported ? WakeChangeMs : WakeRepeatMs);

    /// <summary>Holds a request arrived at <paramref name="now"/>; returns whether it sends a wake line (the first one held does).</summary>
    public bool Hold(long now)
    {
        _held.Enqueue(now, now);
        return (_held.Count == 1 || now - _lastWake >= WakeChangeMs) && Woken(now);
    }

    /// <summary>Whether a held request's look at <paramref name="now"/> sends a wake line (a changed count after 100 ms, the same after a second).</summary>
    public bool WakeDue(long now) => _held.Count > 0 && now >= NextWakeCheck && Woken(now);

    /// <summary>The oldest held request reached its deadline: it is answered 503; returns how long it was held.</summary>
    public int Expire()
    {
        _held.Dequeue();
        _pastDeadline++;
        return (int)_deadlineMs;
    }

    /// <summary>
    /// A server became usable at <paramref name="now"/>: the wake in progress, if any, is over; every held request
    /// goes on at its next look (every 50 ms from its arrival). Returns when each goes on and how long it was held.
    /// </summary>
    public List<(long At, int WaitMs)> Ready(long now)
    {
        if (_wakeStarted is { } started)
        {
            _wakeToReady.Add((int)(now - started));
            _wakeStarted = null;
        }

        var released = new List<(long, int)>(_held.Count);
        while (_held.TryDequeue(out long arrival, out _))
        {
            long wait = (now - arrival + PollMs - 1) / PollMs * PollMs;
            released.Add((arrival + wait, (int)wait));
        }

        _reported = 0;
        return released;
    }

    /// <summary>A released request found no usable server at its look (its server left in the meantime): held again.</summary>
    public void HoldAgain(long arrival) => _held.Enqueue(arrival, arrival);

    /// <summary>A released request went on to a server after waiting <paramref name="waitMs"/>.</summary>
    public void Served(int waitMs) => _waits.Add(waitMs);

    /// <summary>The figures, with the seconds the backend had no server active or warming.</summary>
    public ZeroSimulation Result(double zeroSeconds)
    {
        _waits.Sort();
        _wakeToReady.Sort();
        return new ZeroSimulation(_waits.Count + _pastDeadline, Percentile(_waits, 50), Percentile(_waits, 95), _waits.Count == 0 ? null : _waits[^1],
            _pastDeadline, _wakeToReady.Count + (_wakeStarted is null ? 0 : 1), Percentile(_wakeToReady, 50), zeroSeconds);
    }

    private bool Woken(long now)
    {
        _lastWake = now;
        _reported = _held.Count;
        _wakeStarted ??= now; // the first wake line from zero starts a wake
        return true;
    }

    // Nearest rank over a sorted list.
    private static int? Percentile(List<int> sorted, double p) =>
        sorted.Count == 0 ? null : sorted[Math.Max(0, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];
}
