using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Control;

/// <summary>
/// A Runtime API (stats socket) address in HAProxy's own syntax, so it can be copied from <c>haproxy.cfg</c>:
/// a plain path or <c>unix@/path</c> (UNIX stream socket), <c>ipv4@HOST:PORT</c>, <c>ipv6@[ADDR]:PORT</c> or
/// <c>HOST:PORT</c> (TCP).
/// </summary>
public sealed class HaproxyEndpoint
{
    private HaproxyEndpoint(string address, EndPoint endPoint)
    {
        Address = address;
        EndPoint = endPoint;
    }

    /// <summary>The address as written.</summary>
    public string Address { get; }

    /// <summary>The socket endpoint: a <see cref="UnixDomainSocketEndPoint"/> or an <see cref="IPEndPoint"/>.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>Whether this is a UNIX socket.</summary>
    public bool IsUnix => EndPoint is UnixDomainSocketEndPoint;

    /// <summary>Parses an address; the error says what is wrong.</summary>
    public static bool TryParse(string address, out HaproxyEndpoint? endpoint, out string? error)
    {
        endpoint = null;
        error = null;
        if (string.IsNullOrWhiteSpace(address))
        {
            error = "empty HAProxy endpoint address";
            return false;
        }

        string rest = address;
        string? scheme = null;
        int at = address.IndexOf('@', StringComparison.Ordinal);
        if (at > 0 && !address[..at].Contains('/', StringComparison.Ordinal))
        {
            scheme = address[..at];
            rest = address[(at + 1)..];
        }

        switch (scheme)
        {
            case "unix":
            case null when rest.StartsWith('/') || rest.StartsWith('.'):
                endpoint = new HaproxyEndpoint(address, new UnixDomainSocketEndPoint(rest));
                return true;
            case "ipv4" or "ipv6" or "tcp" or "tcp4" or "tcp6" or null:
                if (!IPEndPoint.TryParse(rest, out IPEndPoint? ip) || ip.Port == 0 || !HasPort(rest))
                {
                    error = $"'{address}': expected a socket path, unix@PATH, ipv4@ADDRESS:PORT or ipv6@[ADDRESS]:PORT";
                    return false;
                }

                if ((scheme is "ipv4" or "tcp4" && ip.AddressFamily != AddressFamily.InterNetwork)
                    || (scheme is "ipv6" or "tcp6" && ip.AddressFamily != AddressFamily.InterNetworkV6))
                {
                    error = $"'{address}': the address family does not match {scheme}@";
                    return false;
                }

                endpoint = new HaproxyEndpoint(address, ip);
                return true;
            default:
                error = $"'{address}': unknown scheme '{scheme}@' (use unix@, ipv4@, ipv6@ or a socket path)";
                return false;
        }
    }

    /// <summary>Parses an address.</summary>
    /// <exception cref="FormatException">The address is not valid.</exception>
    public static HaproxyEndpoint Parse(string address) =>
        TryParse(address, out HaproxyEndpoint? endpoint, out string? error) ? endpoint! : throw new FormatException(error);

    /// <inheritdoc />
    public override string ToString() => Address;

    private static bool HasPort(string hostAndPort)
    {
        int colon = hostAndPort.LastIndexOf(':');
        return colon > 0 && colon < hostAndPort.Length - 1 && hostAndPort[(colon + 1)..].All(char.IsAsciiDigit)
            && (hostAndPort[0] != '[' || hostAndPort[colon - 1] == ']');
    }
}
