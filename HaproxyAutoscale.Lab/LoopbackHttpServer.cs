using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Lab;

/// <summary>The answer of a <see cref="LoopbackHttpServer"/> handler: a status, a text body and extra header lines (each ending in CRLF).</summary>
public sealed record HttpAnswer(int Status, string Body, string ExtraHeaders = "");

/// <summary>
/// A minimal real HTTP/1.1 server on 127.0.0.1 for the demo's apps and the tests' and benchmarks' stand-ins: one
/// request per connection, its path and head handed to the handler, whose answer is sent before the connection is
/// closed (no answer: closed unanswered). Disposing stops accepting and waits for the connections.
/// </summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private readonly Func<string, string, CancellationToken, Task<HttpAnswer?>> _handle;
    private readonly Task _accepting;

    /// <param name="handle">Called with the request's path, its head and a token cancelled on dispose.</param>
    /// <param name="backlog">Connections the kernel queues before they are accepted.</param>
    /// <param name="port">The port to listen on; 0: any free one.</param>
    public LoopbackHttpServer(Func<string, string, CancellationToken, Task<HttpAnswer?>> handle, int backlog = 512, int port = 0)
    {
        _handle = handle;
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true); // a restarted app takes its port back at once
        _listener.Start(backlog);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_connections.Keys);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            Task connection = Task.Run(() => ServeAsync(client));
            _connections.TryAdd(connection, 0);
            _ = connection.ContinueWith(t => _connections.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                if (await ReadHeadAsync(client) is not { } head)
                {
                    return;
                }

                string path = head.Split(' ', 3) is [_, var p, ..] ? p : "?";
                if (await _handle(path, head, _stop.Token) is { } answer)
                {
                    string response = $"HTTP/1.1 {answer.Status} X\r\nContent-Type: text/plain\r\n{answer.ExtraHeaders}Content-Length: {Encoding.ASCII.GetByteCount(answer.Body)}\r\nConnection: close\r\n\r\n{answer.Body}";
                    await client.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None, _stop.Token);
                    client.Shutdown(SocketShutdown.Send);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    // The request line and headers, up to the empty line (8 KiB at most); null when the client closed first.
    private async Task<string?> ReadHeadAsync(Socket client)
    {
        var buffer = new byte[8192];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await client.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
            if (read == 0)
            {
                return null;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }
}
