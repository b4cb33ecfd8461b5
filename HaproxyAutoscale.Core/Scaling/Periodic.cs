namespace HaproxyAutoscale.Scaling;

/// <summary>A pass repeated on an interval, between evaluation passes: the reconcile, counter and learned-capacity loops.</summary>
internal static class Periodic
{
    /// <summary>
    /// Runs a pass every interval (the first one at once when <paramref name="now"/>), until cancelled, each started
    /// right after the evaluation pass nearest its time (half an evaluation interval early at most; a stalled evaluation
    /// loop holds it back one interval at most). At 10,000 backends the counter poll takes 50–150 ms and the reconcile
    /// 90–240 ms: started at any time, they overlapped evaluation passes, which then waited for the cores they held
    /// (<c>results/scale.md</c>, session 32). A loop shorter than the evaluation interval runs on its own time.
    /// </summary>
    public static async Task RunAsync(TimeSpan interval, Func<CancellationToken, Task> pass, Heartbeat evaluations, TimeProvider time, CancellationToken cancellationToken,
        bool now = false)
    {
        try
        {
            if (now)
            {
                await pass(cancellationToken).ConfigureAwait(false);
            }

            while (true)
            {
                TimeSpan evaluation = evaluations.Interval;
                if (interval >= evaluation)
                {
                    await Task.Delay(interval - (evaluation / 2), time, cancellationToken).ConfigureAwait(false);
                    await evaluations.NextBeatAsync(time.GetUtcNow(), time, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
                }

                await pass(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
