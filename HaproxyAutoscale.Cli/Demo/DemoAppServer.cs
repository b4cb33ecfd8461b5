using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Cli.Demo;

/// <summary>
/// A small real HTTP/1.1 server on 127.0.0.1 that behaves like the lazily started apps the autoscaler is for: after
/// being idle it starts slowly (the first request waits <see cref="ColdStart"/>, and so does everything that
/// arrives meanwhile), and it slows down with concurrency (each request in flight adds <see cref="PerRequestDelay"/>).
/// It answers every request with <see cref="Status"/>, closes each connection, and records what it served.
/// </summary>
internal sealed class DemoAppServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ServedRequest> _served = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly Task _acceptLoop;
    private readonly Lock _warmLock = new();
    private Task? _warming;
    private DateTimeOffset _lastRequest = DateTimeOffset.MinValue;
    private int _inFlight;

    public DemoAppServer(string name)
    {
        Name = name;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public string Name { get; }

    public int Port { get; }

    /// <summary>The answer's status code.</summary>
    public int Status { get; set; } = 200;

    /// <summary>Time to answer one request alone.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Added per other request in flight: the app slows down under concurrency.</summary>
    public TimeSpan PerRequestDelay { get; set; } = TimeSpan.FromMilliseconds(25);

    /// <summary>The wait of the first request after <see cref="IdleStop"/> without traffic (0: always warm).</summary>
    public TimeSpan ColdStart { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Without a request for this long the app goes cold again.</summary>
    public TimeSpan IdleStop { get; set; } = TimeSpan.FromMinutes(5);

    public IReadOnlyCollection<ServedRequest> Served => _served;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
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
                string? path = await ReadRequestPathAsync(client);
                if (path is null)
                {
                    return;
                }

                int inFlight = Interlocked.Increment(ref _inFlight);
                try
                {
                    DateTimeOffset arrived = _time.GetUtcNow();
                    bool cold = await WaitUntilWarmAsync(arrived);
                    await Task.Delay(BaseDelay + (PerRequestDelay * (inFlight - 1)), _stop.Token);
                    _served.Enqueue(new ServedRequest(path, arrived, cold));
                    string body = $"{Name} served {path}\n";
                    string response = $"HTTP/1.1 {Status} X\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                    await client.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None, _stop.Token);
                    client.Shutdown(SocketShutdown.Send);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    // The first request after an idle period starts the app; whoever arrives during start-up waits for it too.
    private async Task<bool> WaitUntilWarmAsync(DateTimeOffset now)
    {
        Task warming;
        bool cold;
        lock (_warmLock)
        {
            cold = ColdStart > TimeSpan.Zero && now - _lastRequest > IdleStop && _warming is null;
            if (cold)
            {
                _warming = Task.Delay(ColdStart, _stop.Token).ContinueWith(_ => { lock (_warmLock) { _warming = null; } }, TaskScheduler.Default);
            }

            _lastRequest = now;
            warming = _warming ?? Task.CompletedTask;
        }

        await warming;
        return cold;
    }

    private async Task<string?> ReadRequestPathAsync(Socket client)
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

        return Encoding.ASCII.GetString(buffer, 0, length).Split(' ', 3) is [_, var path, ..] ? path : "?";
    }
}

/// <summary>A request a demo app served: its path, when it arrived, whether it paid the cold start.</summary>
internal sealed record ServedRequest(string Path, DateTimeOffset Arrived, bool Cold);
