namespace HaproxyAutoscale.Scaling;

/// <summary>A pass repeated on an interval: the reconcile and counter loops.</summary>
internal static class Periodic
{
    // Runs a pass every interval (the first one at once when now), until cancelled.
    public static async Task RunAsync(TimeSpan interval, Func<CancellationToken, Task> pass, TimeProvider time, CancellationToken cancellationToken, bool now = false)
    {
        try
        {
            if (now)
            {
                await pass(cancellationToken).ConfigureAwait(false);
            }

            while (true)
            {
                await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
                await pass(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
