namespace HaproxyAutoscale.Cli;

/// <summary>
/// The young collections of <c>run</c>, made between evaluation passes instead of in them. At 10,000 backends a young
/// collection stopped every thread for 10–30 ms (2–3 ms, median, since the backends stopped marking cards at every
/// pass: <c>docs/architecture.md</c>, "Long-lived objects"), and the passes, where most of the steady allocation is
/// made (capacity refits, up to ~1 MB a pass), were where the runtime's young budget (2–4 MB here) ran out: a pass
/// with a collection in it took 30–50 ms instead of ~12. So after each pass (<see cref="Scaling.Autoscaler.LastEvaluation"/> moved):
/// <list type="bullet">
/// <item>generation 1 is collected when a collection left more than <see cref="Gen1Bound"/> in it (garbage that outlived one
/// young collection piled up to 30–55 MB before the GC collected it, and the committed memory followed; the runtime's
/// own cap, <c>DOTNET_GCGen1MaxBudget</c>, is read from the environment only);</item>
/// <item>generation 0 when <see cref="Gen0Spent"/> was allocated since the last collection, before the next pass needs
/// the rest of the budget.</item>
/// </list>
/// At a few backends little is allocated and both are rare.
/// </summary>
internal static class YoungCollections
{
    /// <summary>Generation 1's size, after a collection, above which it is collected.</summary>
    public const long Gen1Bound = 6 * 1024 * 1024;

    /// <summary>Allocated since the last collection, after which generation 0 is collected (between passes).</summary>
    public const long Gen0Spent = 512 * 1024;

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50); // how soon after a pass

    /// <summary>Checks after each pass <paramref name="lastPass"/> reports, until <paramref name="stopping"/> is cancelled.</summary>
    public static Task RunAsync(Func<DateTimeOffset?> lastPass, CancellationToken stopping) => Task.Run(async () =>
    {
        using var timer = new PeriodicTimer(Poll);
        var young = new Ledger();
        DateTimeOffset? seen = lastPass();
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                if (lastPass() is { } pass && pass != seen)
                {
                    seen = pass;
                    GCMemoryInfo last = GC.GetGCMemoryInfo(GCKind.Any);
                    long gen1After = last.GenerationInfo.Length > 1 ? last.GenerationInfo[1].SizeAfterBytes : 0;
                    if (young.Due(last.Index, gen1After, GC.GetTotalAllocatedBytes()) is { } generation)
                    {
                        GC.Collect(generation);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }, CancellationToken.None);

    /// <summary>What was allocated since the last collection, and what it left in generation 1.</summary>
    internal sealed class Ledger
    {
        private long _lastIndex = -1;
        private long _allocatedThen;

        /// <summary>
        /// The generation to collect now, or <see langword="null"/>, from the last collection's number and what it left in
        /// generation 1, and what the process allocated since it started.
        /// </summary>
        public int? Due(long lastCollection, long gen1After, long allocated)
        {
            if (lastCollection != _lastIndex)
            {
                // A collection since the last check: what is allocated is counted from here (the little allocated
                // between it and this check is left out: the next collection comes slightly later).
                (_lastIndex, _allocatedThen) = (lastCollection, allocated);
                if (gen1After > Gen1Bound)
                {
                    return 1;
                }
            }

            return allocated - _allocatedThen >= Gen0Spent ? 0 : null;
        }
    }
}
