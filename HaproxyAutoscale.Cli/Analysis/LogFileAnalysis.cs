using HaproxyAutoscale.Cli.LogFiles;
using HaproxyAutoscale.Logs;
using Microsoft.Win32.SafeHandles;

namespace HaproxyAutoscale.Cli.Analysis;

/// <summary>Runs a <see cref="LogAnalyzer"/> over whole files or streams, a plain file split across all cores.</summary>
internal static class LogFileAnalysis
{
    private const int ChunksPerThread = 8;
    // Holds a line of the longest length analyze reads and its newline; a block read into it stays in the core's L2 cache.
    private const int ReadBufferSize = 256 * 1024;

    /// <summary>
    /// Analyzes several inputs as one log. Plain files go one after the other, each split across all cores; gzip files
    /// and streams cannot be split, so they are read side by side, one each per core.
    /// </summary>
    public static async Task<LogAnalyzer> AnalyzeAsync(IReadOnlyList<LogInput> inputs, int parallelism, CancellationToken cancellationToken)
    {
        LogInput[] sequential = [.. inputs.Where(input => input.Kind != LogInputKind.PlainFile)];
        var partial = new LogAnalyzer[sequential.Length];
        var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, sequential.Length), options, async (i, token) =>
        {
            var analyzer = new LogAnalyzer();
            analyzer.AddUnreadLines(await sequential[i].ReadAsync(analyzer.Add, token).ConfigureAwait(false));
            partial[i] = analyzer;
        }).ConfigureAwait(false);

        var total = new LogAnalyzer();
        foreach (LogAnalyzer analyzer in partial)
        {
            total.Merge(analyzer);
        }

        foreach (LogInput input in inputs.Where(input => input.Kind == LogInputKind.PlainFile))
        {
            input.Dispose(); // checked and held open by LogInput.Open; the split reads open it per range
            total.Merge(await AnalyzeFileAsync(input.Name, parallelism, cancellationToken).ConfigureAwait(false));
        }

        return total;
    }

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
        // More chunks than threads, taken in turn: a thread that gets less of its core (a busy neighbour on a shared
        // machine) simply takes fewer chunks instead of holding up the end.
        long[] bounds = SplitAtLineStarts(path, Math.Max(1, parallelism) * ChunksPerThread);
        int chunks = bounds.Length - 1;
        int taken = -1;
        var workers = new Task<LogAnalyzer>[Math.Clamp(parallelism, 1, chunks)];
        for (int i = 0; i < workers.Length; i++)
        {
            // A thread each: the reads block.
            workers[i] = Task.Factory.StartNew(
                () =>
                {
                    var analyzer = new LogAnalyzer();
                    byte[] buffer = GC.AllocateUninitializedArray<byte>(ReadBufferSize); // one for all the thread's chunks
                    for (int chunk; (chunk = Interlocked.Increment(ref taken)) < chunks;)
                    {
                        AnalyzeRange(path, bounds[chunk], bounds[chunk + 1], buffer, analyzer, cancellationToken);
                    }

                    return analyzer;
                },
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        LogAnalyzer[] results = await Task.WhenAll(workers).ConfigureAwait(false);
        for (int i = 1; i < results.Length; i++)
        {
            results[0].Merge(results[i]);
        }

        return results[0];
    }

    // Reads the lines of a range (it begins at a line start) into the analyzer in blocks of the buffer's size: big
    // blocks for fewer read calls, small enough to stay in the core's cache while they are scanned.
    private static void AnalyzeRange(string path, long start, long end, byte[] buffer, LogAnalyzer analyzer, CancellationToken cancellationToken)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        int held = 0; // bytes of an unfinished line at the start of the buffer
        bool skipping = false; // inside a line longer than the buffer, already counted
        for (long offset = start; ;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (held == buffer.Length)
            {
                // No newline in a whole buffer: a line longer than any analyze reads (LineSplitter skips it too).
                analyzer.AddUnreadLines(1);
                skipping = true;
                held = 0;
            }

            int read = offset < end ? RandomAccess.Read(file, buffer.AsSpan(held, (int)Math.Min(buffer.Length - held, end - offset)), offset) : 0;
            offset += read;
            bool final = read == 0;
            ReadOnlySpan<byte> text = buffer.AsSpan(0, held + read);
            int taken = 0;
            if (skipping)
            {
                int newline = text.IndexOf((byte)'\n');
                skipping = newline < 0;
                taken = skipping ? text.Length : newline + 1;
            }

            taken += analyzer.AddLines(text[taken..], final);
            if (final)
            {
                return;
            }

            text[taken..].CopyTo(buffer);
            held = text.Length - taken;
        }
    }

    // Cuts the file into `parts` ranges that each begin at the start of a line.
    private static long[] SplitAtLineStarts(string path, int parts)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        long length = RandomAccess.GetLength(file);
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
            long next = length;
            for (int read; at < length && (read = RandomAccess.Read(file, probe, at)) > 0; at += read)
            {
                int newline = probe[..read].IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    next = at + newline + 1;
                    break;
                }
            }

            bounds[i] = next;
        }

        return bounds;
    }
}
