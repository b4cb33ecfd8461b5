using System.Diagnostics;

namespace HaproxyAutoscale.Lab.Fidelity;

/// <summary>One phase of a load: <paramref name="Rate"/> requests per second for <paramref name="Duration"/>.</summary>
public sealed record LoadPhase(TimeSpan Duration, double Rate);

/// <summary>
/// An open-loop load generator: Poisson arrivals at a rate schedule, drawn in advance from a seed (so the count is
/// bounded), each request sent at its time without waiting for the others to finish.
/// </summary>
public static class OpenLoopLoad
{
    /// <summary>The arrival offsets of a Poisson process following <paramref name="phases"/>.</summary>
    public static TimeSpan[] Arrivals(IReadOnlyList<LoadPhase> phases, int seed)
    {
        var random = new Random(seed);
        var arrivals = new List<TimeSpan>();
        double start = 0;
        foreach (LoadPhase phase in phases)
        {
            double end = start + phase.Duration.TotalSeconds;
            double t = start;
            while (true)
            {
                t += -Math.Log(1 - random.NextDouble()) / phase.Rate;
                if (t >= end)
                {
                    break;
                }

                arrivals.Add(TimeSpan.FromSeconds(t));
            }

            start = end;
        }

        return [.. arrivals];
    }

    /// <summary>
    /// Sends <c>GET <paramref name="url"/></c> at each of <paramref name="arrivals"/> (from now), each with a
    /// <paramref name="timeout"/>; returns when every request ended. The result counts the answers by outcome.
    /// </summary>
    public static async Task<LoadOutcome> RunAsync(Uri url, IReadOnlyList<TimeSpan> arrivals, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30), UseProxy = false };
        using var http = new HttpClient(handler) { Timeout = timeout };
        long ok = 0, failed = 0, late = 0;
        var requests = new List<Task>(arrivals.Count);
        var clock = Stopwatch.StartNew();
        foreach (TimeSpan arrival in arrivals)
        {
            TimeSpan wait = arrival - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(2))
            {
                await Task.Delay(wait - TimeSpan.FromMilliseconds(1), cancellationToken);
            }

            while (clock.Elapsed < arrival)
            {
                Thread.Yield();
            }

            if (clock.Elapsed - arrival > TimeSpan.FromMilliseconds(20))
            {
                late++;
            }

            requests.Add(Task.Run(async () =>
            {
                try
                {
                    using HttpResponseMessage response = await http.GetAsync(url, cancellationToken);
                    Interlocked.Increment(ref response.IsSuccessStatusCode ? ref ok : ref failed);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref failed);
                }
            }, cancellationToken));
        }

        await Task.WhenAll(requests);
        return new LoadOutcome(arrivals.Count, ok, failed, late);
    }
}

/// <summary>What a load sent: requests, successful answers, failures, and requests sent over 20 ms late.</summary>
public sealed record LoadOutcome(long Sent, long Succeeded, long Failed, long Late);
