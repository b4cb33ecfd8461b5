namespace HaproxyAutoscale.Logs;

/// <summary>Receives one log line, without its line terminator. The span is only valid during the call.</summary>
public delegate void LogLineHandler(ReadOnlySpan<byte> line);

/// <summary>
/// Where HAProxy log lines come from: a tailed file, syslog datagrams over UDP or a UNIX socket, syslog over TCP, standard input.
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

/// <summary>Counters of a log source, read by the autoscaler's metrics; a custom source reports through the <c>Add…</c> methods.</summary>
public sealed class LogSourceCounters
{
    private long _lines;
    private long _dropped;
    private long _oversized;
    private long _rejected;
    private long _malformed;

    /// <summary>The sum of several sources' counters (the sources an autoscaler read from, before and after a reload re-bound its log source).</summary>
    internal static LogSourceCounters Sum(IEnumerable<LogSourceCounters> all)
    {
        var sum = new LogSourceCounters();
        foreach (LogSourceCounters counters in all)
        {
            sum._lines += counters.Lines;
            sum._dropped += counters.Dropped;
            sum._oversized += counters.Oversized;
            sum._rejected += counters.Rejected;
            sum._malformed += counters.Malformed;
        }

        return sum;
    }

    /// <summary>Lines delivered to the handler.</summary>
    public long Lines => Volatile.Read(ref _lines);

    /// <summary>Lines received but dropped because the consumer could not keep up (bounded queue full).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Lines skipped because they were longer than the source's maximum line length.</summary>
    public long Oversized => Interlocked.Read(ref _oversized);

    /// <summary>
    /// Datagrams dropped unread because their sender is not allowed (<see cref="DatagramSourceOptions.AllowFrom"/>):
    /// a growing count means a sender outside the allowlist is sending to the log port.
    /// </summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>
    /// Streams closed because their framing broke (a TCP sender's octet count that is not a number): what followed
    /// on that connection could not be cut into lines.
    /// </summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>
    /// Counts a line delivered to the handler. Call it from the one thread that delivers lines (a plain increment,
    /// published with a volatile write, avoids a locked instruction per line).
    /// </summary>
    public void AddLine() => Volatile.Write(ref _lines, _lines + 1);

    /// <summary>Counts a line received but dropped because the consumer could not keep up. Thread-safe.</summary>
    public void AddDropped() => Interlocked.Increment(ref _dropped);

    /// <summary>Counts a line skipped because it was longer than the source's maximum. Thread-safe.</summary>
    public void AddOversized() => Interlocked.Increment(ref _oversized);

    /// <summary>Counts a datagram dropped because its sender is not allowed. Thread-safe.</summary>
    public void AddRejected() => Interlocked.Increment(ref _rejected);

    /// <summary>Counts a stream closed because its framing broke. Thread-safe.</summary>
    public void AddMalformed() => Interlocked.Increment(ref _malformed);
}
