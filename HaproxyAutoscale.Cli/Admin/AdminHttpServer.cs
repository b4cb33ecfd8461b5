using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Cli.Http;

namespace HaproxyAutoscale.Cli.Admin;

/// <summary>A JSON answer; <see cref="Allow"/> goes with 405.</summary>
internal sealed record AdminResponse(int Status, string Json, string? Allow = null);

/// <summary>
/// The admin endpoint's socket: a loopback TCP port or a UNIX socket (mode 0660, a stale file replaced) served by
/// <see cref="HttpSocketServer"/> (one request per connection, no body, at most <see cref="MaxConnections"/> at once,
/// each within a deadline), every answer JSON.
/// </summary>
internal sealed class AdminHttpServer : IAsyncDisposable
{
    public const int MaxRequestBytes = HttpSocketServer.MaxRequestBytes;
    public const int MaxConnections = HttpSocketServer.MaxConnections;
    private readonly HttpSocketServer _server;
    private readonly string? _socketPath;

    private AdminHttpServer(Socket listener, Func<HttpRequestHead, CancellationToken, Task<AdminResponse>> handle, TimeSpan deadline, string? socketPath)
    {
        _socketPath = socketPath;
        _server = new HttpSocketServer(listener, "the admin endpoint", async (request, token) => Answer(await handle(request, token).ConfigureAwait(false)),
            (status, message) => Answer(new AdminResponse(status, AdminJson.Message(message))), deadline, deadline);
    }

    /// <summary>Binds and listens; a UNIX socket gets mode 0660 before it accepts anything. Throws <see cref="SocketException"/> or <see cref="IOException"/>.</summary>
    public static AdminHttpServer Start(AdminAddress address, Func<HttpRequestHead, CancellationToken, Task<AdminResponse>> handle, TimeSpan deadline)
    {
        Socket listener = address.CreateSocket();
        try
        {
            if (address.SocketPath is { } path)
            {
                RemoveStaleSocket(address, path);
            }

            listener.Bind(address.EndPoint);
            if (address.SocketPath is { } bound && !OperatingSystem.IsWindows())
            {
                // Before Listen: until then connections are refused, so the umask's mode is never usable.
                File.SetUnixFileMode(bound, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            }

            listener.Listen(MaxConnections);
            return new AdminHttpServer(listener, handle, deadline, address.SocketPath);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync().ConfigureAwait(false);
        if (_socketPath is not null)
        {
            File.Delete(_socketPath);
        }
    }

    private static HttpAnswer Answer(AdminResponse response) =>
        new(response.Status, "application/json; charset=utf-8", Encoding.UTF8.GetBytes(response.Json + "\n"), response.Allow);

    // A socket file left by a killed daemon is replaced; one that a running process answers on is not.
    private static void RemoveStaleSocket(AdminAddress address, string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using Socket probe = address.CreateSocket();
        try
        {
            probe.Connect(address.EndPoint);
        }
        catch (SocketException)
        {
            File.Delete(path);
            return;
        }

        throw new IOException($"{path} is in use by another process");
    }
}
