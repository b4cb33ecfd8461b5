namespace HaproxyAutoscale.Logs.Analysis;

/// <summary>Runs a <see cref="LogAnalyzer"/> over a whole file or stream, a file split across all cores.</summary>
internal static class LogFileAnalysis
{
    public static async Task<LogAnalyzer> AnalyzeStreamAsync(Stream stream, CancellationToken cancellationToken)
    {
        var analyzer = new LogAnalyzer();
        ILogSource source = LogSources.FromStream(stream);
        await source.RunAsync(analyzer.Add, cancellationToken).ConfigureAwait(false);
        analyzer.AddUnreadLines(source.Counters.Oversized);
        return analyzer;
    }

    public static async Task<LogAnalyzer> AnalyzeFileAsync(string path, int parallelism, CancellationToken cancellationToken)
    {
        long[] bounds = SplitAtLineStarts(path, Math.Max(1, parallelism));
        var parts = new Task<LogAnalyzer>[bounds.Length - 1];
        for (int i = 0; i < parts.Length; i++)
        {
            long start = bounds[i];
            long end = bounds[i + 1];
            parts[i] = Task.Factory.StartNew(() => AnalyzeRange(path, start, end, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default); // A thread each: blocking reads.
        }

        LogAnalyzer[] results = await Task.WhenAll(parts).ConfigureAwait(false);
        for (int i = 1; i < results.Length; i++)
        {
            results[0].Merge(results[i]);
        }

        return results[0];
    }

    private static LogAnalyzer AnalyzeRange(string path, long start, long end, CancellationToken cancellationToken)
    {
        var analyzer = new LogAnalyzer();
        var counters = new LogSourceCounters();
        FileRangeReader.Read(path, start, end, analyzer.Add, counters, cancellationToken);
        analyzer.AddUnreadLines(counters.Oversized);
        return analyzer;
    }

    // Cuts the file into `parts` ranges that each begin at the start of a line.
    private static long[] SplitAtLineStarts(string path, int parts)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
        long length = file.Length;
        if (length < 1024 * 1024)
        {
            parts = 1;
        }

        var bounds = new long[parts + 1];
        bounds[parts] = length;
        Span<byte> probe = new byte[64 * 1024];
        for (int i = 1; i < parts; i++)
        {
            long at = Math.Max(bounds[i - 1], length * i / parts);
            file.Position = at;
            long next = length;
            while (at < length)
            {
                int read = file.Read(probe);
                int newline = probe[..read].IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    next = at + newline + 1;
                    break;
                }

                at += read;
            }

            bounds[i] = next;
        }

        return bounds;
    }
}
