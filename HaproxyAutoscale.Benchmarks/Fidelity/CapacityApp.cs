using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaproxyAutoscale.Benchmarks.Fidelity;

/// <summary>
/// A real HTTP/1.1 server on 127.0.0.1 with a real capacity limit, behaving exactly as the simulator's server model
/// says a server does: a request's service time is drawn uniformly from [<see cref="MinServiceMs"/>,
/// <see cref="MaxServiceMs"/>], and a request that arrives while <c>c</c> requests (itself included) are in flight
/// takes <c>service × max(1, c / <see cref="Workers"/>)</c> (processor sharing with k workers, fixed at arrival). A cold
/// app (until its first request) makes its first request, and every request that arrives meanwhile, wait
/// <see cref="ColdStart"/>; <c>GET /warmup</c> only waits for the app to be warm. Every connection is closed after
/// its answer.
/// </summary>
public sealed class CapacityApp : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly Lock _warmLock = new();
    private readonly Random _random;
    private Task? _warm;
    private int _inFlight;
    private long _served;

    public CapacityApp(string name, int seed)
    {
        Name = name;
        _random = new Random(seed);
        _listener.Start(backlog: 512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public string Name { get; }

    public int Port { get; }

    /// <summary>k: requests served at full speed at once; beyond, all slow down in proportion.</summary>
    public double Workers { get; init; } = 2;

    public double MinServiceMs { get; init; } = 30;

    public double MaxServiceMs { get; init; } = 70;

    /// <summary>The wait of a cold app's first request (0: warm from the start).</summary>
    public TimeSpan ColdStart { get; init; }

    /// <summary>Requests answered (warm-ups included).</summary>
    public long Served => Interlocked.Read(ref _served);

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

                if (path.StartsWith("/warmup", StringComparison.Ordinal))
                {
                    await WarmAsync();
                }
                else
                {
                    int inFlight = Interlocked.Increment(ref _inFlight);
                    try
                    {
                        double service;
                        lock (_random)
                        {
                            service = MinServiceMs + (_random.NextDouble() * (MaxServiceMs - MinServiceMs));
                        }

                        double delayMs = service * Math.Max(1, inFlight / Workers);
                        Task warm = WarmAsync();
                        await Task.WhenAll(warm, Task.Delay(TimeSpan.FromMilliseconds(delayMs), _stop.Token));
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _inFlight);
                    }
                }

                Interlocked.Increment(ref _served);
                string body = $"{Name} served {path}\n";
                string response = $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                await client.SendAsync(Encoding.ASCII.GetBytes(response), SocketFlags.None, _stop.Token);
                client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    // The first request starts the app; whoever arrives during start-up waits for it too. Once warm, warm for good
    // (the runs are far shorter than the model's idle-to-cold time).
    private Task WarmAsync()
    {
        lock (_warmLock)
        {
            return _warm ??= ColdStart > TimeSpan.Zero ? Task.Delay(ColdStart, _stop.Token) : Task.CompletedTask;
        }
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
