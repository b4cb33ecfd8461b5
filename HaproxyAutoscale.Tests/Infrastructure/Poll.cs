namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>Waits for a condition of a real process with a deadline, instead of sleeping a fixed time.</summary>
internal static class Poll
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting for {what}");
            }

            await Task.Delay(20);
        }
    }
}
