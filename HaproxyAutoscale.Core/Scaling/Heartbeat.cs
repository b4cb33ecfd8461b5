namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The engine's liveness, for a supervisor (systemd's watchdog, a health check): whether it started, and when its
/// evaluation loop last completed a pass. A loop that hangs (a policy, a takeover) stops the beats.
/// </summary>
internal sealed class Heartbeat
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastBeat = long.MinValue; // UTC ticks; MinValue: no pass yet

    public Task Started => _started.Task;

    public DateTimeOffset? LastBeat => Interlocked.Read(ref _lastBeat) is var ticks and not long.MinValue ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Start() => _started.TrySetResult();

    public void Beat(DateTimeOffset now) => Interlocked.Exchange(ref _lastBeat, now.UtcTicks);

    // Wraps a run: if it ends before it started, Started is cancelled rather than left pending.
    public async Task TrackAsync(Task run)
    {
        try
        {
            await run.ConfigureAwait(false);
        }
        finally
        {
            _started.TrySetCanceled();
        }
    }
}
