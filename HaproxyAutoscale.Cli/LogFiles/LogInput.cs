using System.IO.Compression;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Cli.LogFiles;

/// <summary>
/// A log that <c>analyze</c> and <c>replay</c> read once from start to end. <see cref="Open"/> checks the path at once
/// (so a bad one fails before any output) and keeps it open until it is read.
/// </summary>
internal sealed class LogInput : IDisposable
{
    private const int ReadBufferSize = 64 * 1024;

    private readonly uint _sizeInGzipTrailer;
    private Stream? _stream;

    private LogInput(string name, LogInputKind kind, Stream stream, uint sizeInGzipTrailer = 0)
    {
        Name = name;
        Kind = kind;
        _stream = stream;
        _sizeInGzipTrailer = sizeInGzipTrailer;
    }

    /// <summary>The path as given, or <c>-</c>.</summary>
    public string Name { get; }

    public LogInputKind Kind { get; }

    /// <summary>Opens <paramref name="name"/>: a path, or <c>-</c> for <paramref name="standardInput"/>.</summary>
    /// <exception cref="LogInputException">The path cannot be read; the message says why in one line.</exception>
    public static LogInput Open(string name, Func<Stream> standardInput)
    {
        if (name == "-")
        {
            return new LogInput(name, LogInputKind.Stream, standardInput());
        }

        if (Directory.Exists(name))
        {
            throw new LogInputException($"{name}: is a directory");
        }

        FileStream file;
        try
        {
            // Opening a FIFO waits for its writer, as cat would.
            file = new FileStream(name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, ReadBufferSize);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new LogInputException($"{name}: no such file", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new LogInputException($"{name}: permission denied", e);
        }
        catch (IOException e)
        {
            throw new LogInputException($"{name}: cannot open: {e.Message}", e);
        }

        if (!file.CanSeek)
        {
            return new LogInput(name, LogInputKind.Stream, file);
        }

        try
        {
            Span<byte> head = stackalloc byte[2];
            bool gzip = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(GzipFormat.Magic);
            file.Position = 0;
            if (!gzip && name.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                throw new LogInputException($"{name}: not a gzip file (it does not start with the gzip header)");
            }

            return gzip
                ? new LogInput(name, LogInputKind.GzipFile, file, GzipFormat.ReadSizeInTrailer(name, file))
                : new LogInput(name, LogInputKind.PlainFile, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Opens every name in turn; on the first bad one, closes those already open and throws.</summary>
    public static List<LogInput> OpenAll(IEnumerable<string> names, Func<Stream> standardInput)
    {
        var inputs = new List<LogInput>();
        try
        {
            foreach (string name in names)
            {
                inputs.Add(Open(name, standardInput));
            }

            return inputs;
        }
        catch
        {
            inputs.ForEach(input => input.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Passes every line to <paramref name="onLine"/>, in one pass; call once. Returns how many lines were skipped as
    /// longer than <see cref="LogSources.DefaultMaxLineLength"/>.
    /// </summary>
    /// <exception cref="LogInputException">Corrupt or truncated gzip data.</exception>
    public async Task<long> ReadAsync(LogLineHandler onLine, CancellationToken cancellationToken)
    {
        Stream stream = _stream ?? throw new InvalidOperationException($"{Name} was already read");
        _stream = null;
        var counters = new LogSourceCounters();
        if (Kind == LogInputKind.PlainFile)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            FileRangeReader.Read(Name, 0, long.MaxValue, onLine, counters, cancellationToken);
            return counters.Oversized;
        }

        Stream text = Kind == LogInputKind.GzipFile
            ? new GZipStream(stream, CompressionMode.Decompress)
            : await GzipFormat.DecompressIfGzipAsync(stream, cancellationToken).ConfigureAwait(false);
        await using (text.ConfigureAwait(false))
        {
            var splitter = new LineSplitter(LogSources.DefaultMaxLineLength, counters);
            long total = 0;
            try
            {
                for (int read; (read = await text.ReadAsync(splitter.GetFreeSpace(), cancellationToken).ConfigureAwait(false)) > 0;)
                {
                    total += read;
                    splitter.Commit(read, onLine);
                }
            }
            catch (InvalidDataException e)
            {
                throw new LogInputException($"{Name}: corrupt gzip data ({e.Message})", e);
            }

            splitter.Flush(onLine);
            // .NET's GZipStream ends quietly where a truncated file ends (an interrupted compression, a full disk), so
            // the size gzip wrote in the file's last 4 bytes is compared with what came out.
            if (Kind == LogInputKind.GzipFile && (uint)total != _sizeInGzipTrailer)
            {
                throw new LogInputException($"{Name}: truncated gzip file (the decompressed size does not match its trailer)");
            }
        }

        return counters.Oversized;
    }

    /// <summary>
    /// The first accept date in a file's first megabyte (a cheap look, before it is read for real), or null: none
    /// there, or a stream, which can be read only once.
    /// </summary>
    public DateTime? PeekFirstAcceptDate()
    {
        if (Kind == LogInputKind.Stream || _stream is null)
        {
            return null;
        }

        var parser = new HaproxyLogParser();
        DateTime? first = null;
        void OnLine(ReadOnlySpan<byte> line)
        {
            if (first is null && parser.TryParse(line, out RequestRecord record))
            {
                first = record.AcceptDate;
            }
        }

        var splitter = new LineSplitter(LogSources.DefaultMaxLineLength, new LogSourceCounters());
        using var look = new FileStream(Name, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, ReadBufferSize);
        using Stream text = Kind == LogInputKind.GzipFile ? new GZipStream(look, CompressionMode.Decompress) : look;
        try
        {
            for (long budget = 1024 * 1024; first is null && budget > 0;)
            {
                int read = text.Read(splitter.GetFreeSpace().Span);
                if (read == 0)
                {
                    splitter.Flush(OnLine);
                    break;
                }

                budget -= read;
                splitter.Commit(read, OnLine);
            }
        }
        catch (InvalidDataException)
        {
            // Reading it for real reports the corruption, in order.
        }

        return first;
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
