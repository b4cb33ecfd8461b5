namespace HaproxyAutoscale.Logs;

/// <summary>Receives one log line, without its line terminator. The span is only valid during the call.</summary>
public delegate void LogLineHandler(ReadOnlySpan<byte> line);

/// <summary>
/// Where HAProxy log lines come from: a tailed file, syslog datagrams over UDP or a UNIX socket, standard input.
/// Implementations deliver lines on their own reading thread and never buffer without bound.
/// </summary>
public interface ILogSource : IAsyncDisposable
{
    /// <summary>The address this source reads from, in the configuration's syntax (for messages).</summary>
    string Address { get; }

    /// <summary>What this source has read, dropped and skipped so far.</summary>
    LogSourceCounters Counters { get; }

    /// <summary>
    /// Reads lines and passes each to <paramref name="onLine"/> until the input ends (a stream) or
    /// <paramref name="cancellationToken"/> is cancelled (a followed file, a socket). Call once.
    /// </summary>
    Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken);
}

/// <summary>Thread-safe counters of a log source.</summary>
public sealed class LogSourceCounters
{
    private long _lines;
    private long _dropped;
    private long _oversized;

    /// <summary>Lines delivered to the handler.</summary>
    public long Lines => Volatile.Read(ref _lines);

    /// <summary>Lines received but dropped because the consumer could not keep up (bounded queue full).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Lines skipped because they were longer than the source's maximum line length.</summary>
    public long Oversized => Interlocked.Read(ref _oversized);

    // Only the one thread that delivers lines writes this counter: a plain increment, published with a volatile
    // write, avoids a locked instruction per line.
    internal void AddLine() => Volatile.Write(ref _lines, _lines + 1);

    internal void AddDropped() => Interlocked.Increment(ref _dropped);

    internal void AddOversized() => Interlocked.Increment(ref _oversized);
}
