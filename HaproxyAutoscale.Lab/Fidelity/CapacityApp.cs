namespace HaproxyAutoscale.Lab.Fidelity;

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
    private readonly LoopbackHttpServer _server;
    private readonly Lock _warmLock = new();
    private readonly Random _random;
    private Task? _warm;
    private int _inFlight;
    private long _served;

    public CapacityApp(string name, int seed)
    {
        Name = name;
        _random = new Random(seed);
        _server = new LoopbackHttpServer(ServeAsync);
    }

    public string Name { get; }

    public int Port => _server.Port;

    /// <summary>k: requests served at full speed at once; beyond, all slow down in proportion.</summary>
    public double Workers { get; init; } = 2;

    public double MinServiceMs { get; init; } = 30;

    public double MaxServiceMs { get; init; } = 70;

    /// <summary>The wait of a cold app's first request (0: warm from the start).</summary>
    public TimeSpan ColdStart { get; init; }

    /// <summary>Requests answered (warm-ups included).</summary>
    public long Served => Interlocked.Read(ref _served);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task<HttpAnswer?> ServeAsync(string path, string head, CancellationToken stopping)
    {
        if (path.StartsWith("/warmup", StringComparison.Ordinal))
        {
            await WarmAsync(stopping);
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
                await Task.WhenAll(WarmAsync(stopping), Task.Delay(TimeSpan.FromMilliseconds(delayMs), stopping));
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        Interlocked.Increment(ref _served);
        return new HttpAnswer(200, $"{Name} served {path}\n");
    }

    // The first request starts the app; whoever arrives during start-up waits for it too. Once warm, warm for good
    // (the runs are far shorter than the model's idle-to-cold time).
    private Task WarmAsync(CancellationToken stopping)
    {
        lock (_warmLock)
        {
            return _warm ??= ColdStart > TimeSpan.Zero ? Task.Delay(ColdStart, stopping) : Task.CompletedTask;
        }
    }
}
