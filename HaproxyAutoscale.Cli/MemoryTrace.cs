using System.Globalization;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// A diagnostic for measuring the daemon's memory (issue 22): with <c>HAPROXY_AUTOSCALE_GC_TRACE=SECONDS</c> in its
/// environment, <c>run</c> writes one line to standard error every SECONDS with the RSS (<c>/proc/self/status</c>) and
/// what the GC says of its last collection (heap, fragmentation, committed, promoted, pinned, generation sizes) and of
/// its counts. Off by default; nothing else reads the variable.
/// </summary>
internal static class MemoryTrace
{
    public const string Variable = "HAPROXY_AUTOSCALE_GC_TRACE";

    /// <summary>Starts the trace when the variable holds a positive number of seconds; the task ends with <paramref name="stopping"/>.</summary>
    public static Task StartFromEnvironment(TextWriter output, CancellationToken stopping)
    {
        if (!double.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) || seconds <= 0)
        {
            return Task.CompletedTask;
        }

        return Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            do
            {
                output.WriteLine(Line(clock.Elapsed.TotalSeconds));
            }
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false));
        }, stopping).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    public static string Line(double seconds)
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo(GCKind.Any);
        var generations = new System.Text.StringBuilder();
        for (int g = 0; g < info.GenerationInfo.Length; g++)
        {
            GCGenerationInfo generation = info.GenerationInfo[g];
            generations.Append(CultureInfo.InvariantCulture, $" g{g} {Mb(generation.SizeBeforeBytes)}>{Mb(generation.SizeAfterBytes)} frag {Mb(generation.FragmentationAfterBytes)}");
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"gc-trace t {seconds:0.0} s rss {Mb(RssBytes())} MB | last gc #{info.Index} gen{info.Generation}{(info.Compacted ? " compacted" : "")} heap {Mb(info.HeapSizeBytes)} frag {Mb(info.FragmentedBytes)} committed {Mb(info.TotalCommittedBytes)} promoted {Mb(info.PromotedBytes)} pinned {info.PinnedObjectsCount} |{generations} | now total {Mb(GC.GetTotalMemory(false))} allocated {Mb(GC.GetTotalAllocatedBytes())} counts {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} pause {GC.GetTotalPauseDuration().TotalMilliseconds:0} ms");
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    private static long RssBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
    }
}
