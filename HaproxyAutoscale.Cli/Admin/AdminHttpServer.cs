using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Cli.Admin;

/// <summary>A request as the admin endpoint sees it: no body (one is refused before it gets here).</summary>
internal sealed record AdminRequest(string Method, string Path, string Query, string? Host, string? Origin);

/// <summary>A JSON answer; <see cref="Allow"/> goes with 405.</summary>
internal sealed record AdminResponse(int Status, string Json, string? Allow = null);

/// <summary>
/// The smallest HTTP/1.1 server the admin endpoint needs, over a TCP or UNIX stream socket (HttpListener cannot serve a
/// UNIX socket, and Kestrel would be most of the binary): one request per connection, request line and headers of at
/// most <see cref="MaxRequestBytes"/>, no body, <c>Connection: close</c>. At most <see cref="MaxConnections"/> are served
/// at once (the next ones wait in the backlog), each within a deadline, all on async I/O: no thread per connection.
/// </summary>
internal sealed class AdminHttpServer : IAsyncDisposable
{
    public const int MaxRequestBytes = 8 * 1024;
    public const int MaxConnections = 16;
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private readonly Socket _listener;
    private readonly Func<AdminRequest, CancellationToken, Task<AdminResponse>> _handle;
    private readonly TimeSpan _deadline;
    private readonly string? _socketPath;
    private readonly SemaphoreSlim _slots = new(MaxConnections);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    private AdminHttpServer(Socket listener, Func<AdminRequest, CancellationToken, Task<AdminResponse>> handle, TimeSpan deadline, string? socketPath)
    {
        _listener = listener;
        _handle = handle;
        _deadline = deadline;
        _socketPath = socketPath;
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Binds and listens; a UNIX socket gets mode 0660 before it accepts anything. Throws <see cref="SocketException"/> or <see cref="IOException"/>.</summary>
    public static AdminHttpServer Start(AdminAddress address, Func<AdminRequest, CancellationToken, Task<AdminResponse>> handle, TimeSpan deadline)
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

    private async Task AcceptLoopAsync()
    {
        CancellationToken stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await _slots.WaitAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                Socket client = await _listener.AcceptAsync(stop).ConfigureAwait(false);
                _ = ServeAsync(client, stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                _slots.Release();
                if (!stop.IsCancellationRequested)
                {
                    // e.g. out of file descriptors: try again shortly rather than stop serving
                    await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stop)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
            deadline.CancelAfter(_deadline);
            byte[] buffer = new byte[MaxRequestBytes];
            int length = 0;
            int headerEnd;
            while ((headerEnd = buffer.AsSpan(0, length).IndexOf(HeaderEnd)) < 0)
            {
                if (length == buffer.Length)
                {
                    await SendAsync(client, new AdminResponse(431, AdminJson.Message($"request line and headers exceed {MaxRequestBytes} bytes")), deadline.Token).ConfigureAwait(false);
                    return;
                }

                int read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                length += read;
            }

            AdminResponse response = Parse(Encoding.Latin1.GetString(buffer, 0, headerEnd), out AdminRequest? request) ?? await HandleAsync(request!, deadline.Token).ConfigureAwait(false);
            await SendAsync(client, response, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // a client too slow, gone, or the server stopping: the connection just closes
        }
        finally
        {
            client.Dispose();
            _slots.Release();
        }
    }

    private async Task<AdminResponse> HandleAsync(AdminRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await _handle(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw; // past the deadline: the connection closes
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new AdminResponse(500, AdminJson.Message($"{e.GetType().Name}: {e.Message.Split('\n', 2)[0]}"));
        }
    }

    // Returns an error response, or null with the request.
    private static AdminResponse? Parse(string head, out AdminRequest? request)
    {
        request = null;
        string[] lines = head.Split("\r\n");
        string[] start = lines[0].Split(' ');
        if (start.Length != 3 || !start[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || start[0].Length == 0 || !start[0].All(char.IsAsciiLetterUpper) || !start[1].StartsWith('/'))
        {
            return new AdminResponse(400, AdminJson.Message("not an HTTP/1.x request line"));
        }

        string? host = null, origin = null;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return new AdminResponse(400, AdminJson.Message("malformed header line"));
            }

            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                host = value;
            }
            else if (name.Equals("Origin", StringComparison.OrdinalIgnoreCase))
            {
                origin = value;
            }
            else if ((name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && value != "0") || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                return new AdminResponse(413, AdminJson.Message("the admin endpoint takes no request body"));
            }
        }

        int question = start[1].IndexOf('?', StringComparison.Ordinal);
        request = question < 0
            ? new AdminRequest(start[0], start[1], "", host, origin)
            : new AdminRequest(start[0], start[1][..question], start[1][(question + 1)..], host, origin);
        return null;
    }

    private static async Task SendAsync(Socket client, AdminResponse response, CancellationToken cancellationToken)
    {
        byte[] body = Encoding.UTF8.GetBytes(response.Json + "\n");
        string head = $"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {body.Length}\r\n"
            + (response.Allow is null ? "" : $"Allow: {response.Allow}\r\n") + "Cache-Control: no-store\r\nConnection: close\r\n\r\n";
        await client.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        await client.SendAsync(body, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        client.Shutdown(SocketShutdown.Send);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        for (int i = 0; i < MaxConnections; i++)
        {
            await _slots.WaitAsync().ConfigureAwait(false); // every connection in flight has ended
        }

        if (_socketPath is not null)
        {
            File.Delete(_socketPath);
        }

        _stop.Dispose();
        _slots.Dispose();
    }
}
