using System.IO.Abstractions;
using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Creates the built-in log sources from addresses in HAProxy's own syntax: <c>udp@HOST:PORT</c> (also
/// <c>udp4@</c>, <c>udp6@</c>, <c>udp@[::1]:PORT</c>), <c>tcp@HOST:PORT</c> (syslog over TCP from HAProxy rings or
/// rsyslog; also <c>tcp4@</c>, <c>tcp6@</c>), <c>unix@/path</c> (a UNIX datagram socket), <c>-</c> (standard input)
/// or a plain file path (tailed).
/// </summary>
public static class LogSources
{
    /// <summary>The default longest line: HAProxy cannot log longer lines than 65,535 bytes.</summary>
    public const int DefaultMaxLineLength = 64 * 1024;

    /// <summary>
    /// Creates the source for <paramref name="address"/>. Sockets are bound at once. A TCP source takes its sender
    /// allowlist from <paramref name="datagramOptions"/> (<see cref="DatagramSourceOptions.AllowFrom"/>, the one
    /// <c>logs.allowFrom</c>); use <see cref="FromTcp"/> for its other options.
    /// </summary>
    /// <exception cref="FormatException">The address is not valid; the message says why.</exception>
    /// <exception cref="SocketException">The socket could not be bound.</exception>
    public static ILogSource Create(string address, IFileSystem fileSystem, TimeProvider timeProvider, FileTailOptions? fileOptions = null, DatagramSourceOptions? datagramOptions = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address == "-")
        {
            return FromStream(Console.OpenStandardInput(), "-", ownsStream: true);
        }

        if (TryParseSocketEndPoint(address, out EndPoint? endPoint, out bool stream, out string? error))
        {
            if (stream)
            {
                var tcpOptions = new TcpSourceOptions();
                if (datagramOptions is not null)
                {
                    tcpOptions.AllowFrom.Clear();
                    foreach (IPNetwork network in datagramOptions.AllowFrom)
                    {
                        tcpOptions.AllowFrom.Add(network);
                    }
                }

                return new TcpLogSource((IPEndPoint)endPoint!, address, tcpOptions);
            }

            return new DatagramLogSource(endPoint!, address, datagramOptions ?? new DatagramSourceOptions());
        }

        if (error is not null)
        {
            throw new FormatException(error);
        }

        return FromFile(address, fileSystem, timeProvider, fileOptions);
    }

    /// <summary>Follows the file at <paramref name="path"/> (see <see cref="FileTailOptions"/>).</summary>
    public static ILogSource FromFile(string path, IFileSystem fileSystem, TimeProvider timeProvider, FileTailOptions? options = null) =>
        new FileTailLogSource(fileSystem, path, options ?? new FileTailOptions(), timeProvider);

    /// <summary>Reads <paramref name="stream"/> to its end.</summary>
    public static ILogSource FromStream(Stream stream, string address = "stream", bool ownsStream = false, int maxLineLength = DefaultMaxLineLength) =>
        new StreamLogSource(stream, address, ownsStream, maxLineLength);

    /// <summary>Listens for syslog datagrams on <paramref name="endPoint"/> (an <see cref="IPEndPoint"/> or a <see cref="UnixDomainSocketEndPoint"/>).</summary>
    public static ILogSource FromDatagrams(EndPoint endPoint, DatagramSourceOptions? options = null) =>
        new DatagramLogSource(endPoint, endPoint.ToString() ?? "datagram", options ?? new DatagramSourceOptions());

    /// <summary>Listens for syslog over TCP on <paramref name="endPoint"/> (see <see cref="TcpSourceOptions"/>).</summary>
    public static ILogSource FromTcp(IPEndPoint endPoint, TcpSourceOptions? options = null) =>
        new TcpLogSource(endPoint, "tcp@" + endPoint, options ?? new TcpSourceOptions());

    /// <summary>Checks an address without opening anything; returns an error sentence or <see langword="null"/>.</summary>
    public static string? Validate(string address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            return "empty log source address";
        }

        TryParseSocketEndPoint(address, out _, out _, out string? error);
        return error;
    }

    // Returns false with error == null when the address is not a socket address at all (a file or "-"); stream is true
    // for tcp@ (a listening TCP socket), false for the datagram sockets.
    internal static bool TryParseSocketEndPoint(string address, out EndPoint? endPoint, out bool stream, out string? error)
    {
        endPoint = null;
        error = null;
        stream = false;
        int at = address.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            return false;
        }

        string scheme = address[..at];
        string rest = address[(at + 1)..];
        switch (scheme)
        {
            case "unix":
                if (rest.Length == 0)
                {
                    error = $"'{address}': unix@ needs a socket path";
                    return false;
                }

                endPoint = new UnixDomainSocketEndPoint(rest);
                return true;
            case "udp" or "udp4" or "udp6" or "tcp" or "tcp4" or "tcp6":
                stream = scheme.StartsWith("tcp", StringComparison.Ordinal);
                if (!IPEndPoint.TryParse(rest, out IPEndPoint? ip) || rest.LastIndexOf(':') < 0 || !rest[(rest.LastIndexOf(':') + 1)..].All(char.IsAsciiDigit))
                {
                    error = $"'{address}': expected {scheme}@HOST:PORT with a numeric address, e.g. {scheme[..3]}@127.0.0.1:5140";
                    return false;
                }

                if ((scheme[^1] == '4' && ip.AddressFamily != AddressFamily.InterNetwork) || (scheme[^1] == '6' && ip.AddressFamily != AddressFamily.InterNetworkV6))
                {
                    error = $"'{address}': the address family does not match {scheme}@";
                    return false;
                }

                endPoint = ip;
                return true;
            default:
                // A file name may contain '@'; only a leading "word@" that looks like a scheme is an error.
                if (scheme.Length is > 0 and < 8 && scheme.All(char.IsAsciiLetterOrDigit) && !scheme.Contains('/', StringComparison.Ordinal))
                {
                    error = $"'{address}': unknown log source scheme '{scheme}@' (use udp@, tcp@, unix@, a file path or -)";
                }

                return false;
        }
    }
}
