namespace HaproxyAutoscale.Cli;

/// <summary>
/// Keeps generation 1 small for <c>run</c>: once a collection leaves more than <see cref="Bound"/> in it, it is collected.
/// At 10,000 backends every evaluation interval leaves ~1.5 MB that outlives one young collection and dies soon after
/// (each backend's last decision, plan and counters); the GC let it pile up to 30–55 MB in generation 1 before
/// collecting it, and the heap's committed memory followed (RSS 160–200 MB). The runtime's own cap
/// (<c>DOTNET_GCGen1MaxBudget</c>) does the same but is read from the environment only, never from the
/// runtimeconfig or the Native AOT binary's settings. A collection of generation 1 this small takes a few ms; at a
/// few backends generation 1 never grows this large and nothing is collected.
/// </summary>
internal static class YoungGarbageCap
{
    /// <summary>Generation 1's size, after a collection, above which it is collected.</summary>
    public const long Bound = 6 * 1024 * 1024;

    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>Checks once a second until <paramref name="stopping"/> is cancelled.</summary>
    public static Task RunAsync(CancellationToken stopping) => Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(Period);
        long checkedIndex = -1;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                GCMemoryInfo last = GC.GetGCMemoryInfo(GCKind.Any);
                if (last.Index != checkedIndex && last.GenerationInfo.Length > 1 && last.GenerationInfo[1].SizeAfterBytes > Bound)
                {
                    GC.Collect(1);
                }

                checkedIndex = GC.GetGCMemoryInfo(GCKind.Any).Index;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }, CancellationToken.None);
}
