namespace HaproxyAutoscale.Scaling;

/// <summary>A clock set by its owner: the log's time in replay, the simulated time in a simulation.</summary>
internal sealed class ManualClock : TimeProvider
{
    private DateTimeOffset _now;

    public void Set(DateTimeOffset now) => _now = now;

    public override DateTimeOffset GetUtcNow() => _now;
}
