using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Scaling;

/// <summary>Warms a parked server up before it is enabled, so the first real user does not pay its cold start.</summary>
public interface IWarmup
{
    /// <summary>Requests <paramref name="url"/> until it answers well or the attempts are used up.</summary>
    Task<WarmupResult> WarmUpAsync(Uri url, CancellationToken cancellationToken);
}

/// <summary>The outcome of a warm-up.</summary>
/// <param name="Succeeded">Whether the server answered with an accepted status.</param>
/// <param name="Reason">What happened, e.g. "200 after 1 attempt" or "timeout after 10s (3 attempts)".</param>
/// <param name="Duration">How long it took, retries included.</param>
public sealed record WarmupResult(bool Succeeded, string Reason, TimeSpan Duration);

/// <summary>HTTP GET warm-ups with a per-attempt deadline and doubling retry delays (time from the <see cref="TimeProvider"/>).</summary>
internal sealed class HttpWarmup : IWarmup, IDisposable
{
    private readonly HttpClient _client;
    private readonly WarmupOptions _options;
    private readonly TimeProvider _time;

    public HttpWarmup(WarmupOptions options, TimeProvider time, HttpMessageHandler? handler = null)
    {
        _options = options;
        _time = time;
        _client = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1), AllowAutoRedirect = false })
        {
            Timeout = Timeout.InfiniteTimeSpan, // each attempt has its own deadline
        };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("haproxy-autoscale-warmup/1");
    }

    public async Task<WarmupResult> WarmUpAsync(Uri url, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        string reason = "not attempted";
        for (int attempt = 1; attempt <= _options.Attempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(Backoff.Exponential(_options.RetryDelay, attempt - 1, TimeSpan.MaxValue), _time, cancellationToken).ConfigureAwait(false);
            }

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_options.Timeout);
            try
            {
                using HttpResponseMessage response = await _client.GetAsync(url, HttpCompletionOption.ResponseContentRead, deadline.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status >= _options.MinStatus && status <= _options.MaxStatus)
                {
                    return new WarmupResult(true, $"{status} after {Attempts(attempt)}", _time.GetElapsedTime(started));
                }

                reason = $"status {status}";
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                reason = $"no answer within {Durations.Format(_options.Timeout)}";
            }
            catch (HttpRequestException e)
            {
                reason = e.InnerException?.Message ?? e.Message;
            }
        }

        return new WarmupResult(false, $"{reason} ({Attempts(_options.Attempts)})", _time.GetElapsedTime(started));
    }

    public void Dispose() => _client.Dispose();

    private static string Attempts(int count) => count == 1 ? "1 attempt" : $"{count} attempts";
}
