using System.Net;

namespace HaproxyAutoscale.Logs;

/// <summary>Options of the syslog TCP source (<c>tcp@HOST:PORT</c>).</summary>
public sealed class TcpSourceOptions
{
    /// <summary>The longest message accepted; longer ones are skipped without being held and counted as oversized.</summary>
    /// <value>The default is 65,536 bytes.</value>
    public int MaxLineLength { get; set; } = LogSources.DefaultMaxLineLength;

    /// <summary>
    /// Senders connected at once at most; a connection past that is closed at once (and logged). Every HAProxy of a
    /// fleet holds one connection per ring <c>server</c>, and each connection is read by a thread of its own.
    /// </summary>
    /// <value>The default is 256.</value>
    public int MaxConnections { get; set; } = 256;

    /// <summary>
    /// Bytes read from one connection per turn at most. A connection's buffer never holds more than this plus one
    /// message: when the handler falls behind, the source stops reading the sockets, the kernel's buffers fill and
    /// the senders wait (HAProxy keeps the lines in its ring), instead of the source growing its memory.
    /// </summary>
    /// <value>The default is 64 KiB.</value>
    public int ReadSize { get; set; } = 64 * 1024;

    /// <summary>
    /// The senders whose connections are accepted: IP addresses or CIDR prefixes, as
    /// <see cref="DatagramSourceOptions.AllowFrom"/> (<c>logs.allowFrom</c>). A connection from any other sender is
    /// closed before anything is read and counted in <see cref="LogSourceCounters.Rejected"/>.
    /// </summary>
    /// <value>The default is loopback only: <c>127.0.0.0/8</c> and <c>::1</c>.</value>
    public IList<IPNetwork> AllowFrom { get; } = [.. SenderAllowlist.Loopback];
}
