namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The engine's liveness, for a supervisor (systemd's watchdog, a health check): whether it started, and when its
/// evaluation loop last completed a pass. A loop that hangs (a policy, a takeover) stops the beats. The periodic loops
/// wait for the next beat to start their own work between passes (<see cref="Periodic"/>).
/// </summary>
internal sealed class Heartbeat(Func<TimeSpan> interval)
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastBeat = long.MinValue; // UTC ticks; MinValue: no pass yet
    private TaskCompletionSource _nextBeat = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The evaluation interval (a reload may change it): how far apart the beats are meant to be.</summary>
    public TimeSpan Interval => interval();

    public Task Started => _started.Task;

    public DateTimeOffset? LastBeat => Interlocked.Read(ref _lastBeat) is var ticks and not long.MinValue ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Start() => _started.TrySetResult();

    public void Beat(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _lastBeat, now.UtcTicks); // before the waiters are released: see NextBeatAsync
        Interlocked.Exchange(ref _nextBeat, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Completes when a pass has ended at or after <paramref name="since"/> (at once if one already has), or when
    /// <see cref="Interval"/> has gone by without one: a stalled evaluation loop delays the caller by one interval at most.
    /// </summary>
    public async Task NextBeatAsync(DateTimeOffset since, TimeProvider time, CancellationToken cancellationToken)
    {
        Task next = Volatile.Read(ref _nextBeat).Task; // taken before the last beat is read: no beat falls between the two
        if (Interlocked.Read(ref _lastBeat) >= since.UtcTicks)
        {
            return;
        }

        try
        {
            await next.WaitAsync(Interval, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

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
