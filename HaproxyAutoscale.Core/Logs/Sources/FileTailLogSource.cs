using System.IO.Abstractions;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Follows a log file like <c>tail -F</c>: waits for it to exist, reads what is appended, and follows logrotate's
/// rename+create (the old file is read to its end first, then the new one from its start) and copytruncate
/// (reading restarts at the start of the truncated file).
/// </summary>
/// <remarks>
/// <see cref="IFileSystem"/> exposes no inode, so a file is identified by its first bytes (its fingerprint): when the
/// path shows other first bytes than the file being read, or less data than was read from it, the file was rotated.
/// </remarks>
internal sealed class FileTailLogSource : ILogSource, IBatchingLogSource
{
    private const int FingerprintLength = 256;

    private readonly IFileSystem _fileSystem;
    private readonly string _path;
    private readonly FileTailOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly byte[] _fingerprint = new byte[FingerprintLength];
    private int _fingerprintLength;
    private Stream? _current;
    private long _position;

    public FileTailLogSource(IFileSystem fileSystem, string path, FileTailOptions options, TimeProvider timeProvider)
    {
        _fileSystem = fileSystem;
        _path = path;
        _options = options;
        _timeProvider = timeProvider;
        // Opened now, as a socket source binds when it is created: the lines appended between the daemon's start
        // and its first read are read, not skipped as "present at start".
        Open(atStart: true);
    }

    public string Address => _path;

    public LogSourceCounters Counters { get; } = new();

    /// <summary>Whether a file is open and being followed.</summary>
    public bool IsFollowing => Volatile.Read(ref _current) is not null;

    /// <summary>Number of rotations followed (rename+create or truncation).</summary>
    public int Rotations { get; private set; }

    public Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken) => RunAsync(onLine, static () => { }, cancellationToken);

    public async Task RunAsync(LogLineHandler onLine, Action onReadEnd, CancellationToken cancellationToken)
    {
        var splitter = new LineSplitter(_options.MaxLineLength, Counters);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (_current is null)
                {
                    Open(atStart: false);
                }

                if (_current is not null)
                {
                    await ReadToEndAsync(_current, splitter, onLine, cancellationToken).ConfigureAwait(false);
                    FollowRotation(splitter, onLine);
                    onReadEnd(); // read to the end: the wait below may be long
                }

                if (_current is null || _current.Position >= _current.Length)
                {
                    await Task.Delay(_options.PollInterval, _timeProvider, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Open(bool atStart)
    {
        _current = TryOpen(_path);
        if (_current is not null)
        {
            // Only the file present at start is skipped; a file that appears later is all new lines.
            _position = atStart && _options.StartAtEnd ? _current.Length : 0;
            _current.Position = _position;
            _fingerprintLength = ReadFingerprint(_current, _fingerprint, _position);
        }
    }

    public ValueTask DisposeAsync()
    {
        _current?.Dispose();
        _current = null;
        return ValueTask.CompletedTask;
    }

    private async Task ReadToEndAsync(Stream stream, LineSplitter splitter, LogLineHandler onLine, CancellationToken cancellationToken)
    {
        while (true)
        {
            Memory<byte> free = splitter.GetFreeSpace();
            int read = await stream.ReadAsync(free, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            if (_position < FingerprintLength && _fingerprintLength < FingerprintLength)
            {
                // Remember the file's first bytes as they are read, to recognise it later.
                int take = (int)Math.Min(read, FingerprintLength - _position);
                free.Span[..take].CopyTo(_fingerprint.AsSpan((int)_position));
                _fingerprintLength = Math.Max(_fingerprintLength, (int)_position + take);
            }

            _position += read;
            splitter.Commit(read, onLine);
        }
    }

    // Called at the end of the current file: decide whether the path now holds another file or a truncated one.
    private void FollowRotation(LineSplitter splitter, LogLineHandler onLine)
    {
        using Stream? atPath = TryOpen(_path);
        if (atPath is null)
        {
            return; // Renamed away, not yet re-created: keep the old file, it may still get its last lines.
        }

        Span<byte> prefix = stackalloc byte[FingerprintLength];
        int prefixLength = ReadFingerprint(atPath, prefix, 0);
        bool sameStart = prefixLength >= _fingerprintLength
            && prefix[.._fingerprintLength].SequenceEqual(_fingerprint.AsSpan(0, _fingerprintLength));
        if (sameStart && atPath.Length >= _position)
        {
            return;
        }

        Rotations++;
        if (_current!.Length < _position)
        {
            // copytruncate: the file we hold was emptied in place. Lines written between our last read and the
            // truncation are lost by copytruncate itself; everything from now on is read.
            splitter.Reset();
            _current.Position = 0;
        }
        else
        {
            // rename+create: we were at the end of the old file; its unterminated last line is complete now.
            splitter.Flush(onLine);
            _current.Dispose();
            _current = TryOpen(_path);
            if (_current is null)
            {
                return;
            }
        }

        _position = 0;
        _fingerprintLength = 0;
    }

    private static int ReadFingerprint(Stream stream, Span<byte> destination, long restorePosition)
    {
        if (stream.Length == 0)
        {
            return 0;
        }

        stream.Position = 0;
        int total = 0;
        while (total < destination.Length)
        {
            int read = stream.Read(destination[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        stream.Position = restorePosition;
        return total;
    }

    private Stream? TryOpen(string path)
    {
        try
        {
            return _fileSystem.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            return null;
        }
    }
}
