using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>
/// A real HTTP/1.1 server on 127.0.0.1 (an ephemeral port): answers every request after <see cref="Delay"/> with
/// <see cref="Status"/>, closes each connection after one answer, and records the paths it served.
/// </summary>
internal sealed class HttpBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly Task _acceptLoop;

    public HttpBackend(int status = 200, TimeSpan delay = default)
    {
        Status = status;
        Delay = delay;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    public int Status { get; set; }

    public TimeSpan Delay { get; set; }

    public IReadOnlyCollection<string> Requests => _requests;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
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

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                var buffer = new byte[8192];
                int length = 0;
                while (length < buffer.Length)
                {
                    int read = await client.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    length += read;
                    if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
                    {
                        break;
                    }
                }

                string head = Encoding.ASCII.GetString(buffer, 0, length);
                string path = head.Split(' ', 3) is [_, var p, ..] ? p : "?";
                _requests.Enqueue(path);
                if (Delay > TimeSpan.Zero)
                {
                    await Task.Delay(Delay, _stop.Token);
                }

                string body = $"served {path}\n";
                string response = $"HTTP/1.1 {Status} X\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                await client.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None, _stop.Token);
                client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }
}
