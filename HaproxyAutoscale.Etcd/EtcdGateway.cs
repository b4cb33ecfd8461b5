using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Etcd;

/// <summary>Why an etcd request failed on every member it was tried on.</summary>
internal sealed class EtcdException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The few etcd v3 calls the election needs, over etcd's HTTP/JSON gateway. Requests go to one member at a time; a
/// member that cannot be reached, times out or answers "unavailable" makes the request move on to the next one (each
/// member once per request), and later requests stay with the member that answered. Every request has its own
/// deadline, so a hung member costs at most that long.
/// </summary>
internal sealed partial class EtcdGateway : IDisposable
{
    private readonly HttpClient _http;
    private readonly IReadOnlyList<Uri> _members;
    private readonly TimeSpan _requestTimeout;
    private readonly ILogger _logger;
    private readonly string _election;
    private int _current;

    public EtcdGateway(IReadOnlyList<Uri> members, TimeSpan requestTimeout, ILogger logger, string election)
    {
        _members = members;
        _requestTimeout = requestTimeout;
        _logger = logger;
        _election = election;
        var handler = new SocketsHttpHandler { ConnectTimeout = requestTimeout, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30), UseProxy = false };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The member requests go to now.</summary>
    public Uri Current => _members[Volatile.Read(ref _current)];

    public Task<LeaseResponse> GrantAsync(long ttlSeconds, CancellationToken cancellationToken) =>
        PostAsync("v3/lease/grant", new LeaseRequest { Ttl = ttlSeconds }, EtcdJsonContext.Default.LeaseRequest, EtcdJsonContext.Default.LeaseResponse, cancellationToken);

    /// <summary>Renews the lease once; the remaining TTL in seconds, 0 when etcd no longer knows the lease (it expired).</summary>
    public async Task<long> KeepAliveAsync(long lease, CancellationToken cancellationToken) =>
        (await PostAsync("v3/lease/keepalive", new LeaseRequest { Id = lease }, EtcdJsonContext.Default.LeaseRequest, EtcdJsonContext.Default.KeepAliveResponse, cancellationToken).ConfigureAwait(false))
        .Result?.Ttl ?? 0;

    public Task RevokeAsync(long lease, CancellationToken cancellationToken) =>
        PostAsync("v3/lease/revoke", new LeaseRequest { Id = lease }, EtcdJsonContext.Default.LeaseRequest, EtcdJsonContext.Default.EmptyResponse, cancellationToken);

    public Task PutAsync(byte[] key, byte[] value, long lease, CancellationToken cancellationToken) =>
        PostAsync("v3/kv/put", new PutRequest { Key = key, Value = value, Lease = lease }, EtcdJsonContext.Default.PutRequest, EtcdJsonContext.Default.EmptyResponse, cancellationToken);

    /// <summary>The key under <paramref name="prefix"/> with the lowest create revision (the election's leader), or null.</summary>
    public async Task<KeyValue?> FirstCreatedAsync(byte[] prefix, CancellationToken cancellationToken)
    {
        var request = new RangeRequest { Key = prefix, RangeEnd = PrefixEnd(prefix), Limit = 1 };
        RangeResponse response = await PostAsync("v3/kv/range", request, EtcdJsonContext.Default.RangeRequest, EtcdJsonContext.Default.RangeResponse, cancellationToken).ConfigureAwait(false);
        return response.Kvs is [var first, ..] ? first : null;
    }

    public void Dispose() => _http.Dispose();

    private static byte[] PrefixEnd(byte[] prefix)
    {
        byte[] end = (byte[])prefix.Clone();
        end[^1]++; // prefixes here end with '/', never 0xff
        return end;
    }

    private async Task<TResponse> PostAsync<TRequest, TResponse>(string path, TRequest request, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        int start = Volatile.Read(ref _current);
        Exception? last = null;
        for (int attempt = 0; attempt < _members.Count; attempt++)
        {
            int index = (start + attempt) % _members.Count;
            Uri member = _members[index];
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_requestTimeout);
            try
            {
                using HttpResponseMessage response = await _http.PostAsJsonAsync(new Uri(member, path), request, requestType, deadline.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    TResponse? body = await response.Content.ReadFromJsonAsync(responseType, deadline.Token).ConfigureAwait(false);
                    Switch(start, index);
                    return body ?? throw new EtcdException($"{member}{path}: empty answer");
                }

                string error = await ErrorOf(response, deadline.Token).ConfigureAwait(false);
                if (response.StatusCode is not (HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.InternalServerError))
                {
                    Switch(start, index);
                    throw new EtcdException($"{member}{path}: {error}"); // a definite answer (bad request, lease not found): no use asking another member
                }

                last = new EtcdException($"{member}{path}: {error}");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                last = new EtcdException($"{member}{path}: no answer within {_requestTimeout.TotalMilliseconds:0} ms");
            }
            catch (HttpRequestException e)
            {
                last = new EtcdException($"{member}{path}: {e.Message}", e);
            }
            catch (System.Text.Json.JsonException e)
            {
                last = new EtcdException($"{member}{path}: unexpected answer ({e.Message})", e);
            }

            if (attempt + 1 < _members.Count)
            {
                MemberFailed(_logger, _election, last.Message, _members[(index + 1) % _members.Count].ToString());
            }
        }

        throw last ?? new EtcdException("no etcd member configured");
    }

    private void Switch(int from, int to)
    {
        if (from != to)
        {
            Interlocked.CompareExchange(ref _current, to, from);
        }
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (System.Text.Json.JsonSerializer.Deserialize(text, EtcdJsonContext.Default.ErrorResponse) is { } error && (error.Message ?? error.Error) is { } message)
            {
                return $"{(int)response.StatusCode} {message}";
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return $"{(int)response.StatusCode} {text.Trim()}";
    }

    [LoggerMessage(AutoscaleEventIds.ElectionEndpointFailed, LogLevel.Warning, "{Election}: {Error}; trying {Next}")]
    private static partial void MemberFailed(ILogger logger, string election, string error, string next);
}
