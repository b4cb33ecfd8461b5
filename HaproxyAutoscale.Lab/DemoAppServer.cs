using System.Collections.Concurrent;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// A small real HTTP/1.1 server on 127.0.0.1 that behaves like the lazily started apps the autoscaler is for: after
/// being idle it starts slowly (the first request waits <see cref="ColdStart"/>, and so does everything that
/// arrives meanwhile), and it slows down with concurrency (each request in flight adds <see cref="PerRequestDelay"/>).
/// It answers every request with <see cref="Status"/>, closes each connection, and records what it served.
/// </summary>
public sealed class DemoAppServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<ServedRequest> _served = new();
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly LoopbackHttpServer _server;
    private readonly Lock _warmLock = new();
    private Task? _warming;
    private DateTimeOffset _lastRequest = DateTimeOffset.MinValue;
    private int _inFlight;

    /// <param name="name">The server's name.</param>
    /// <param name="port">The port to listen on (an app started again takes its port back); 0: any free one.</param>
    public DemoAppServer(string name, int port = 0)
    {
        Name = name;
        _server = new LoopbackHttpServer(ServeAsync, port: port);
    }

    public string Name { get; }

    public int Port => _server.Port;

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

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task<HttpAnswer?> ServeAsync(string path, string head, CancellationToken stopping)
    {
        int inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            DateTimeOffset arrived = _time.GetUtcNow();
            bool cold = await WaitUntilWarmAsync(arrived, stopping);
            await Task.Delay(BaseDelay + (PerRequestDelay * (inFlight - 1)), stopping);
            _served.Enqueue(new ServedRequest(path, arrived, cold));
            return new HttpAnswer(Status, $"{Name} served {path}\n");
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    // The first request after an idle period starts the app; whoever arrives during start-up waits for it too.
    private async Task<bool> WaitUntilWarmAsync(DateTimeOffset now, CancellationToken stopping)
    {
        Task warming;
        bool cold;
        lock (_warmLock)
        {
            cold = ColdStart > TimeSpan.Zero && now - _lastRequest > IdleStop && _warming is null;
            if (cold)
            {
                _warming = Task.Delay(ColdStart, stopping).ContinueWith(_ => { lock (_warmLock) { _warming = null; } }, TaskScheduler.Default);
            }

            _lastRequest = now;
            warming = _warming ?? Task.CompletedTask;
        }

        await warming;
        return cold;
    }
}

/// <summary>A request a demo app served: its path, when it arrived, whether it paid the cold start.</summary>
public sealed record ServedRequest(string Path, DateTimeOffset Arrived, bool Cold);
