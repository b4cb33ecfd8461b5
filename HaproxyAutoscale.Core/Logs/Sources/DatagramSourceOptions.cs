using System.Net;

namespace HaproxyAutoscale.Logs;

/// <summary>Options of the syslog datagram sources (UDP and UNIX).</summary>
public sealed class DatagramSourceOptions
{
    /// <summary>The largest datagram accepted; longer ones are cut by the socket.</summary>
    /// <value>The default is 65,536 bytes.</value>
    public int MaxDatagramSize { get; set; } = LogSources.DefaultMaxLineLength;

    /// <summary>Bytes of received but unhandled datagrams held at most; past that, datagrams are dropped and counted.</summary>
    /// <value>The default is 16 MiB.</value>
    public long MaxQueuedBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>The kernel receive buffer asked for the UDP socket (Linux caps it at <c>net.core.rmem_max</c>).</summary>
    /// <value>The default is 4 MiB.</value>
    public int ReceiveBufferSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The senders whose UDP datagrams are accepted: IP addresses or CIDR prefixes (an IPv4 sender that reaches an IPv6
    /// socket as <c>::ffff:a.b.c.d</c> matches the IPv4 entries). A datagram from any other sender is dropped before it
    /// is parsed and counted in <see cref="LogSourceCounters.Rejected"/>, so a host that can reach the port cannot fake
    /// load or idleness. It does not apply to UNIX sockets, whose file mode (<see cref="UnixSocketMode"/>) says who may
    /// write. Replace the entries to accept others, e.g. <c>AllowFrom.Clear(); AllowFrom.Add(IPNetwork.Parse("10.0.0.0/8"))</c>;
    /// an empty list rejects every datagram. Read when the source is created.
    /// </summary>
    /// <value>The default is loopback only: <c>127.0.0.0/8</c> and <c>::1</c>.</value>
    public IList<IPNetwork> AllowFrom { get; } = [.. SenderAllowlist.Loopback];

    /// <summary>File mode of a UNIX socket, so that HAProxy's user may write to it; <see langword="null"/> keeps the umask's.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public UnixFileMode? UnixSocketMode { get; set; }
}
