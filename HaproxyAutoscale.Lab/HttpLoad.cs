using System.Collections.Concurrent;
using System.Diagnostics;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// Closed-loop HTTP load on a URL: <see cref="Clients"/> concurrent loops, each sending <c>GET</c> after <c>GET</c>,
/// bounded in time (<see cref="Duration"/>) and in requests (<see cref="MaxRequests"/>), ended early by a token.
/// Counts answers (2xx succeeded; other statuses and transport errors failed). With <see cref="ActiveClients"/> the
/// number of loops sending can follow a ramp (the others idle).
/// </summary>
public sealed class HttpLoad(Uri url)
{
    private readonly ConcurrentQueue<double> _latencies = new();
    private long _sent;

    /// <summary>Concurrent client loops.</summary>
    public int Clients { get; init; } = 1;

    /// <summary>The load ends after this long.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The load ends after this many requests.</summary>
    public long MaxRequests { get; init; } = long.MaxValue;

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many of the loops send now (the others wait <see cref="IdleWait"/> and look again); null: all.</summary>
    public Func<int>? ActiveClients { get; init; }

    public TimeSpan IdleWait { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Keeps every answer's latency (<see cref="Latencies"/>).</summary>
    public bool KeepLatencies { get; init; }

    public Uri Url { get; } = url;

    /// <summary>Where answers are counted: shared by several loads to count them together (a rig's total).</summary>
    public HttpAnswerCounts Counts { get; init; } = new();

    public long Succeeded => Counts.Succeeded;

    public long Failed => Counts.Failed;

    /// <summary>Answers' latencies in milliseconds (with <see cref="KeepLatencies"/>).</summary>
    public IReadOnlyCollection<double> Latencies => _latencies;

    /// <summary>Load on 127.0.0.1:<paramref name="port"/><paramref name="path"/>.</summary>
    public static HttpLoad OnLoopback(int port, string path = "/page", int clients = 1, TimeSpan? duration = null) =>
        new(new Uri($"http://127.0.0.1:{port}{path}")) { Clients = clients, Duration = duration ?? TimeSpan.FromSeconds(30) };

    /// <summary>Runs the load until its time or request bound, or <paramref name="cancellationToken"/>; requests in flight then end normally.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = RequestTimeout };
        var clock = Stopwatch.StartNew();
        bool Over() => cancellationToken.IsCancellationRequested || clock.Elapsed >= Duration;
        Task[] loops = [.. Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            while (!Over())
            {
                if (ActiveClients is not null && client >= ActiveClients())
                {
                    await Task.Delay(IdleWait, CancellationToken.None).ConfigureAwait(false);
                    continue;
                }

                if (Interlocked.Increment(ref _sent) > MaxRequests)
                {
                    return;
                }

                await SendAsync(http).ConfigureAwait(false);
            }
        }, CancellationToken.None))];
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private async Task SendAsync(HttpClient http)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            using HttpResponseMessage response = await http.GetAsync(Url, CancellationToken.None).ConfigureAwait(false);
            Counts.Count(response.IsSuccessStatusCode);
            if (KeepLatencies)
            {
                _latencies.Enqueue(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            Counts.Count(succeeded: false); // refused, reset, or timed out
        }
    }
}

/// <summary>Answers counted by one or more <see cref="HttpLoad"/>s: 2xx succeeded, anything else failed.</summary>
public sealed class HttpAnswerCounts
{
    private long _succeeded;
    private long _failed;

    public long Succeeded => Interlocked.Read(ref _succeeded);

    public long Failed => Interlocked.Read(ref _failed);

    internal void Count(bool succeeded) => Interlocked.Increment(ref succeeded ? ref _succeeded : ref _failed);
}
