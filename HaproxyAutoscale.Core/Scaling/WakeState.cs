namespace HaproxyAutoscale.Scaling;

/// <summary>
/// One backend's wake: from the first wake line that found it at zero until its first server takes traffic (or every
/// server the wake started failed). Not thread-safe: callers hold the backend's lock.
/// </summary>
internal sealed class WakeState
{
    /// <summary>When the wake line that started this wake arrived, or <see langword="null"/>: not waking.</summary>
    public DateTimeOffset? Since { get; private set; }

    /// <summary>The requests HAProxy held, from the latest wake line.</summary>
    public int Held { get; set; }

    /// <summary>The timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the wake line that started this wake, for <c>wake_to_ready_seconds</c>.</summary>
    public long StartedTimestamp { get; private set; }

    /// <summary>The rule (paused, standby) that kept a wake from acting, logged once while it lasts; or <see langword="null"/>.</summary>
    public HoldGate? HeldBy { get; set; }

    /// <summary>No server left to start (all in their failure back-off): logged once until a wake acts again.</summary>
    public bool NoServerLogged { get; set; }

    /// <summary>
    /// The held count of a wake that found no server to start while one was on its way to parked or stopped
    /// (draining, stopping): retried at each evaluation instead of waiting for the Lua script's next line (1 s).
    /// </summary>
    public int? Pending { get; set; }

    public bool IsWaking => Since is not null;

    public void Begin(DateTimeOffset now, long timestamp, int held)
    {
        Since = now;
        StartedTimestamp = timestamp;
        Held = held;
    }

    public void End() => Since = null;
}
