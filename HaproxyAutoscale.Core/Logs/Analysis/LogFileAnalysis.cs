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
            parts[i] = Task.Run(() => AnalyzeRangeAsync(path, start, end, cancellationToken), cancellationToken);
        }

        LogAnalyzer[] results = await Task.WhenAll(parts).ConfigureAwait(false);
        for (int i = 1; i < results.Length; i++)
        {
            results[0].Merge(results[i]);
        }

        return results[0];
    }

    private static async Task<LogAnalyzer> AnalyzeRangeAsync(string path, long start, long end, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0, FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            file.Position = start;
            return await AnalyzeStreamAsync(new RangeStream(file, end - start), cancellationToken).ConfigureAwait(false);
        }
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

    // Exposes `length` bytes of a stream from its current position.
    private sealed class RangeStream(Stream inner, long length) : Stream
    {
        private long _remaining = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
            _remaining -= read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
            _remaining -= read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
