using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Cli.Http;

/// <summary>A request's line and headers (no body: one is refused before a handler sees it); an HTTP/1.0 one is answered without chunks.</summary>
internal sealed record HttpRequestHead(string Method, string Path, string Query, string? Host, string? Origin, bool Http10 = false);

/// <summary>
/// An answer: a status and a body, either whole (<see cref="Body"/>) or written by <see cref="WriteBody"/> as it is made
/// (sent chunked, so that a body that ends short, because its writer failed, reaches the client as an error, not as a
/// shorter body). <see cref="Allow"/> goes with 405.
/// </summary>
internal sealed record HttpAnswer(int Status, string ContentType, byte[] Body, string? Allow = null)
{
    public Func<Stream, CancellationToken, Task>? WriteBody { get; init; }
}

/// <summary>
/// The smallest HTTP/1.1 server the admin and metrics endpoints need, over a listening TCP or UNIX stream socket
/// (HttpListener cannot serve a UNIX socket or, on Linux, an IPv6 address, and could crash on a connection arriving while
/// it started; Kestrel would be most of the binary): one request per connection, request line and headers of at most
/// <see cref="MaxRequestBytes"/> received within a request timeout, no body, <c>Connection: close</c>. At most
/// <see cref="MaxConnections"/> are served at once (the next ones wait in the backlog), each within a deadline (then its
/// socket is closed, which ends a body written synchronously too), on async I/O: no thread per connection, and a client
/// that sends nothing or reads nothing holds one slot until its timeout, never the others.
/// </summary>
internal sealed class HttpSocketServer : IAsyncDisposable
{
    public const int MaxRequestBytes = 8 * 1024;
    public const int MaxConnections = 16;
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private readonly Socket _listener;
    private readonly string _name;
    private readonly Func<HttpRequestHead, CancellationToken, Task<HttpAnswer>> _handle;
    private readonly Func<int, string, HttpAnswer> _error;
    private readonly TimeSpan _requestTimeout;
    private readonly TimeSpan _deadline;
    private readonly SemaphoreSlim _slots = new(MaxConnections);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    /// <summary>
    /// Serves <paramref name="listening"/> (bound, listening; disposed with the server). <paramref name="name"/> names the
    /// endpoint in error messages; <paramref name="error"/> renders an error the server answers itself (400, 413, 431,
    /// 500) in the endpoint's format; <paramref name="requestTimeout"/> bounds the request's head, <paramref name="deadline"/>
    /// the whole exchange.
    /// </summary>
    public HttpSocketServer(Socket listening, string name, Func<HttpRequestHead, CancellationToken, Task<HttpAnswer>> handle, Func<int, string, HttpAnswer> error, TimeSpan requestTimeout, TimeSpan deadline)
    {
        _listener = listening;
        _name = name;
        _handle = handle;
        _error = error;
        _requestTimeout = requestTimeout < deadline ? requestTimeout : deadline;
        _deadline = deadline;
        _accepting = AcceptLoopAsync();
    }

    public static string Reason(int status) => status switch
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

        _stop.Dispose();
        _slots.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        await Task.Yield(); // the constructor returns at once; the first connection is accepted on the thread pool
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
            // At the deadline or on stop the socket is closed: that ends a body written synchronously too (a scrape
            // blocked on a client that stopped reading).
            using CancellationTokenRegistration abort = deadline.Token.Register(client.Dispose);
            (HttpAnswer? answer, HttpRequestHead? request) = await ReceiveAsync(client, deadline.Token).ConfigureAwait(false);
            if (answer is null && request is null)
            {
                return; // closed before a whole request
            }

            answer ??= await HandleAsync(request!, deadline.Token).ConfigureAwait(false);
            await SendAsync(client, answer, request?.Http10 ?? false, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // a client too slow, gone, or the server stopping: the connection just closes
        }
        finally
        {
            client.Dispose();
            _slots.Release();
        }
    }

    // The request's head within the request timeout: an error answer, the request, or neither (closed early).
    private async Task<(HttpAnswer? Error, HttpRequestHead? Request)> ReceiveAsync(Socket client, CancellationToken deadline)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        timeout.CancelAfter(_requestTimeout);
        byte[] buffer = new byte[MaxRequestBytes];
        int length = 0;
        int headerEnd;
        while ((headerEnd = buffer.AsSpan(0, length).IndexOf(HeaderEnd)) < 0)
        {
            if (length == buffer.Length)
            {
                return (_error(431, $"request line and headers exceed {MaxRequestBytes} bytes"), null);
            }

            int read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return (null, null);
            }

            length += read;
        }

        HttpAnswer? error = Parse(Encoding.Latin1.GetString(buffer, 0, headerEnd), out HttpRequestHead? request);
        return (error, request);
    }

    private async Task<HttpAnswer> HandleAsync(HttpRequestHead request, CancellationToken cancellationToken)
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
            return _error(500, Failure(e));
        }
    }

    private static string Failure(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n', 2)[0]}";

    // Returns an error answer, or null with the request.
    private HttpAnswer? Parse(string head, out HttpRequestHead? request)
    {
        request = null;
        string[] lines = head.Split("\r\n");
        string[] start = lines[0].Split(' ');
        if (start.Length != 3 || !start[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || start[0].Length == 0 || !start[0].All(char.IsAsciiLetterUpper) || !start[1].StartsWith('/'))
        {
            return _error(400, "not an HTTP/1.x request line");
        }

        string? host = null, origin = null;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return _error(400, "malformed header line");
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
                return _error(413, $"{_name} takes no request body");
            }
        }

        int question = start[1].IndexOf('?', StringComparison.Ordinal);
        bool http10 = start[2] == "HTTP/1.0";
        request = question < 0
            ? new HttpRequestHead(start[0], start[1], "", host, origin, http10)
            : new HttpRequestHead(start[0], start[1][..question], start[1][(question + 1)..], host, origin, http10);
        return null;
    }

    private async Task SendAsync(Socket client, HttpAnswer answer, bool http10, CancellationToken cancellationToken)
    {
        if (answer.WriteBody is not { } writeBody)
        {
            await client.SendAsync(Head(answer, $"Content-Length: {answer.Body.Length}\r\n"), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            await client.SendAsync(answer.Body, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            client.Shutdown(SocketShutdown.Send);
            return;
        }

        // The head goes out with the first chunk: a writer that fails before writing anything is answered 500.
        client.NoDelay = true; // each piece goes out at once: no wait for the previous one's acknowledgement
        var body = new ChunkedBodyStream(client, Head(answer, http10 ? "" : "Transfer-Encoding: chunked\r\n"), chunked: !http10, cancellationToken);
        try
        {
            await writeBody(body, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (!body.Started && !cancellationToken.IsCancellationRequested && e is not (SocketException or IOException))
            {
                await SendAsync(client, _error(500, Failure(e)), http10, cancellationToken).ConfigureAwait(false);
            }

            return; // cut part way: the connection closes without the last chunk, so the client sees a broken body
        }

        await body.EndAsync().ConfigureAwait(false);
        client.Shutdown(SocketShutdown.Send);
    }

    private static byte[] Head(HttpAnswer answer, string framing) => Encoding.ASCII.GetBytes(
        $"HTTP/1.1 {answer.Status} {Reason(answer.Status)}\r\nContent-Type: {answer.ContentType}\r\n{framing}"
        + (answer.Allow is null ? "" : $"Allow: {answer.Allow}\r\n") + "Cache-Control: no-store\r\nConnection: close\r\n\r\n");
}
