using System.Net;

namespace HaproxyAutoscale.Logs;

/// <summary>Which HAProxy log format a request line was written in.</summary>
public enum RequestKind : byte
{
    /// <summary><c>option httplog</c> or <c>option httpslog</c>: five timers and an HTTP status.</summary>
    Http,

    /// <summary><c>option tcplog</c>: three timers (Tw/Tc/Tt), no status.</summary>
    Tcp,
}

/// <summary>
/// One request (HTTP) or connection (TCP) as HAProxy logged it. Filled by <see cref="HaproxyLogParser"/>
/// without allocating: names are interned, the client address is kept as raw bits.
/// </summary>
/// <remarks>
/// Timers hold HAProxy's own values in milliseconds: <c>-1</c> when that phase never happened (a <c>&lt;NOSRV&gt;</c>
/// 503 has no connect time) and <see cref="NotLogged"/> when the log format has no such timer (TCP lines have no
/// <see cref="RequestTime"/> and no <see cref="ResponseTime"/>).
/// </remarks>
public struct RequestRecord
{
    /// <summary>Value of a timer or of <see cref="StatusCode"/> that the line's format does not carry.</summary>
    public const int NotLogged = int.MinValue;

    /// <summary>Server name HAProxy logs when no server was selected (bad request, no server available).</summary>
    public const string NoServerName = "<NOSRV>";

    private UInt128 _clientBits;
    private byte _clientFamily;

    /// <summary>HTTP or TCP line.</summary>
    public RequestKind Kind { get; internal set; }

    /// <summary>The accept date as logged (HAProxy host's local time, millisecond resolution, <see cref="DateTimeKind.Unspecified"/>).</summary>
    public DateTime AcceptDate { get; internal set; }

    /// <summary>The client's port (0 for a UNIX socket client).</summary>
    public int ClientPort { get; internal set; }

    /// <summary>Frontend name, without the <c>~</c> that marks an SSL frontend.</summary>
    public string Frontend { get; internal set; }

    /// <summary>Whether the frontend name carried the <c>~</c> suffix (the connection used SSL/TLS).</summary>
    public bool IsSsl { get; internal set; }

    /// <summary>Backend name.</summary>
    public string Backend { get; internal set; }

    /// <summary>Server name, or <see cref="NoServerName"/>.</summary>
    public string Server { get; internal set; }

    /// <summary>Whether no server was selected (<c>&lt;NOSRV&gt;</c>).</summary>
    public readonly bool HasNoServer => ReferenceEquals(Server, NoServerName);

    /// <summary>TR (Tq before 1.9): time to receive the full request from the client; HTTP only.</summary>
    public int RequestTime { get; internal set; }

    /// <summary>Tw: time spent waiting in queues.</summary>
    public int QueueTime { get; internal set; }

    /// <summary>Tc: time to establish the connection to the server.</summary>
    public int ConnectTime { get; internal set; }

    /// <summary>Tr: server response time (headers); HTTP only. The default timer of a backend's window.</summary>
    public int ResponseTime { get; internal set; }

    /// <summary>Ta (Tt for TCP and before 1.9): total active time of the request or connection.</summary>
    public int TotalTime { get; internal set; }

    /// <summary>Whether <see cref="TotalTime"/> carried <c>+</c> (<c>option logasap</c>: logged before the end).</summary>
    public bool IsTotalTimePartial { get; internal set; }

    /// <summary>HTTP status (may be -1), or <see cref="NotLogged"/> for TCP lines.</summary>
    public int StatusCode { get; internal set; }

    /// <summary>Bytes sent to the client.</summary>
    public long BytesRead { get; internal set; }

    /// <summary>Whether <see cref="BytesRead"/> carried <c>+</c> (<c>option logasap</c>).</summary>
    public bool IsBytesReadPartial { get; internal set; }

    /// <summary>The termination state: two characters for TCP, four for HTTP.</summary>
    public TerminationState TerminationState { get; internal set; }

    /// <summary>actconn: concurrent connections on the process when the session was logged.</summary>
    public int ActiveConnections { get; internal set; }

    /// <summary>feconn: concurrent connections on the frontend.</summary>
    public int FrontendConnections { get; internal set; }

    /// <summary>beconn: concurrent connections handled by the backend.</summary>
    public int BackendConnections { get; internal set; }

    /// <summary>srv_conn: concurrent connections on the server.</summary>
    public int ServerConnections { get; internal set; }

    /// <summary>Number of connection retries.</summary>
    public int Retries { get; internal set; }

    /// <summary>srv_queue: requests processed before this one in the server queue.</summary>
    public int ServerQueue { get; internal set; }

    /// <summary>backend_queue: requests processed before this one in the backend queue.</summary>
    public int BackendQueue { get; internal set; }

    /// <summary>Returns the client address, or <see langword="null"/> for a UNIX socket client. Allocates.</summary>
    public readonly IPAddress? GetClientAddress()
    {
        switch (_clientFamily)
        {
            case 4:
                return new IPAddress((uint)_clientBits);
            case 6:
                Span<byte> bytes = stackalloc byte[16];
                System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, _clientBits);
                return new IPAddress(bytes);
            default:
                return null;
        }
    }

    internal void SetClient(byte family, UInt128 bits)
    {
        _clientFamily = family;
        _clientBits = bits;
    }
}

/// <summary>
/// HAProxy's termination state: the event that ended the session, the session state then, and for HTTP the
/// persistence cookie status characters. <c>----</c> / <c>--</c> is a normal end.
/// </summary>
public readonly record struct TerminationState
{
    private readonly uint _packed;

    internal TerminationState(ReadOnlySpan<byte> chars)
    {
        uint packed = 0;
        for (int i = 0; i < chars.Length; i++)
        {
            packed |= (uint)chars[i] << (8 * i);
        }

        _packed = packed;
        Length = (byte)chars.Length;
    }

    /// <summary>Number of characters (2 or 4).</summary>
    public byte Length { get; }

    /// <summary>First character: who or what ended the session (<c>-</c> normal, <c>C</c> client, <c>S</c> server, …).</summary>
    public char Cause => (char)(_packed & 0xFF);

    /// <summary>Second character: the session state at that moment (<c>R</c> request, <c>Q</c> queue, <c>C</c> connect, <c>H</c> headers, <c>D</c> data, …).</summary>
    public char Phase => (char)((_packed >> 8) & 0xFF);

    /// <summary>Whether the session ended normally (first two characters <c>--</c>).</summary>
    public bool IsNormal => (_packed & 0xFFFF) == ('-' | ('-' << 8));

    /// <inheritdoc />
    public override string ToString()
    {
        Span<char> text = stackalloc char[4];
        for (int i = 0; i < Length; i++)
        {
            text[i] = (char)((_packed >> (8 * i)) & 0xFF);
        }

        return new string(text[..Length]);
    }
}
