using System.Net;
using System.Net.Sockets;

namespace HaproxyAutoscale.Cli.Admin;

/// <summary>
/// Where the admin endpoint listens: a loopback <c>HOST:PORT</c> or <c>unix:/path</c>. Nothing else: pause and resume
/// have no authentication, so only local processes (or, for a UNIX socket, its owner and group) may reach them.
/// </summary>
internal sealed record AdminAddress(EndPoint EndPoint, string Text)
{
    /// <summary>What <c>explain</c>, <c>pause</c>, <c>resume</c> and <c>status --admin</c> talk to without <c>--admin</c>.</summary>
    public const string Default = "127.0.0.1:9465";

    public bool IsUnix => EndPoint is UnixDomainSocketEndPoint;

    public string? SocketPath => IsUnix ? Text["unix:".Length..] : null;

    public static bool TryParse(string text, out AdminAddress? address, out string? error)
    {
        address = null;
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = text["unix:".Length..];
            if (path.Length == 0 || !Path.IsPathFullyQualified(path))
            {
                error = $"--admin: '{text}' needs an absolute path, e.g. unix:/run/haproxy-autoscale/admin.sock";
                return false;
            }

            error = null;
            address = new AdminAddress(new UnixDomainSocketEndPoint(path), text);
            return true;
        }

        if (!IPEndPoint.TryParse(text, out IPEndPoint? endPoint) || endPoint.Port == 0 || !text.Contains(':', StringComparison.Ordinal))
        {
            error = $"--admin: '{text}' is not a loopback HOST:PORT with a numeric address (e.g. {Default}) or unix:/path";
            return false;
        }

        if (!IPAddress.IsLoopback(endPoint.Address))
        {
            error = $"--admin: '{text}' is not a loopback address; pause and resume have no authentication, so use 127.0.0.1:PORT, [::1]:PORT or unix:/path";
            return false;
        }

        error = null;
        address = new AdminAddress(endPoint, text);
        return true;
    }

    public Socket CreateSocket() => IsUnix
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);

    public override string ToString() => Text;
}
