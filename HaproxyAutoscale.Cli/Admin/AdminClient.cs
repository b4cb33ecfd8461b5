using System.Net.Sockets;
using System.Text.Json;

namespace HaproxyAutoscale.Cli.Admin;

/// <summary>The daemon could not be asked: not running, wrong address, or no permission on its socket.</summary>
internal sealed class AdminUnreachableException(string message) : Exception(message);

/// <summary>Talks to a running daemon's admin endpoint (TCP loopback or UNIX socket) for the CLI verbs.</summary>
internal sealed class AdminClient : IDisposable
{
    private readonly AdminAddress _address;
    private readonly HttpClient _http;

    public AdminClient(AdminAddress address)
    {
        _address = address;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (_, cancellationToken) =>
            {
                Socket socket = address.CreateSocket();
                try
                {
                    await socket.ConnectAsync(address.EndPoint, cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        _http = new HttpClient(handler)
        {
            BaseAddress = new Uri(address.IsUnix ? "http://localhost/" : $"http://{address.Text}/"),
            Timeout = TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>Sends one request; returns the HTTP status and the JSON answer. Throws <see cref="AdminUnreachableException"/>.</summary>
    public async Task<(int Status, JsonElement Body)> SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        try
        {
            using var request = new HttpRequestMessage(method, path);
            using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            using JsonDocument document = JsonDocument.Parse(text);
            return ((int)response.StatusCode, document.RootElement.Clone());
        }
        catch (HttpRequestException e)
        {
            // .NET reports a missing UNIX socket file as "cannot assign requested address": say what it is.
            string why = _address.SocketPath is { } socketFile && !File.Exists(socketFile) ? "no such socket file" : (e.InnerException as SocketException)?.Message ?? e.Message;
            throw new AdminUnreachableException($"cannot reach the autoscaler at {_address}: {why.ToLowerInvariant()} (is 'haproxy-autoscale run --admin {_address}' running?)");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminUnreachableException($"the autoscaler at {_address} did not answer within {_http.Timeout.TotalSeconds:0} s");
        }
        catch (JsonException)
        {
            throw new AdminUnreachableException($"{_address} answered, but not with the admin endpoint's JSON (another service on that port?)");
        }
    }

    /// <summary>GET /status: one object per backend.</summary>
    public async Task<IReadOnlyList<JsonElement>> StatusAsync(CancellationToken cancellationToken) =>
        [.. (await StatusDocumentAsync(cancellationToken).ConfigureAwait(false)).GetProperty("backends").EnumerateArray()];

    /// <summary>
    /// <c>GET /backends/NAME</c>: the backend's object, or <see langword="null"/> with the daemon's message (which names
    /// the backends it does autoscale) when it autoscales no such backend. A daemon older than that route (still running
    /// after the package was upgraded) is asked for its whole <c>/status</c> instead.
    /// </summary>
    public async Task<(JsonElement? Backend, string? Unknown)> BackendAsync(string name, CancellationToken cancellationToken)
    {
        (int status, JsonElement body) = await SendAsync(HttpMethod.Get, "backends/" + Uri.EscapeDataString(name), cancellationToken).ConfigureAwait(false);
        if (status == 200)
        {
            return (body, null);
        }

        if (!IsNoSuchEndpoint(status, body))
        {
            return status == 404 ? (null, MessageOf(body)) : throw new AdminUnreachableException($"{_address}: GET /backends/{name} answered {status}: {MessageOf(body)}");
        }

        IReadOnlyList<JsonElement> backends = await StatusAsync(cancellationToken).ConfigureAwait(false);
        return backends.FirstOrDefault(b => b.GetProperty("backend").GetString() == name) is { ValueKind: JsonValueKind.Object } found
            ? (found, null)
            : (null, AdminJson.UnknownBackend(name, [.. backends.Select(b => b.GetProperty("backend").GetString()!)]));
    }

    /// <summary>
    /// <c>GET /senders</c>: the TCP log source's senders (<c>logSenders</c>, empty for another source); from a daemon
    /// older than that route, its whole <c>/status</c>, which holds them too.
    /// </summary>
    public async Task<JsonElement> SendersAsync(CancellationToken cancellationToken)
    {
        (int status, JsonElement body) = await SendAsync(HttpMethod.Get, "senders", cancellationToken).ConfigureAwait(false);
        return status == 200 ? body
            : IsNoSuchEndpoint(status, body) ? await StatusDocumentAsync(cancellationToken).ConfigureAwait(false)
            : throw new AdminUnreachableException($"{_address}: GET /senders answered {status}: {MessageOf(body)}");
    }

    private async Task<JsonElement> StatusDocumentAsync(CancellationToken cancellationToken)
    {
        (int status, JsonElement body) = await SendAsync(HttpMethod.Get, "status", cancellationToken).ConfigureAwait(false);
        return status == 200 && body.TryGetProperty("backends", out _)
            ? body
            : throw new AdminUnreachableException($"{_address}: GET /status answered {status}: {MessageOf(body)}");
    }

    // What a daemon answers for a path it does not serve (one older than the path).
    private static bool IsNoSuchEndpoint(int status, JsonElement body) =>
        status == 404 && MessageOf(body).StartsWith("no such endpoint", StringComparison.Ordinal);

    public static string MessageOf(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object && body.TryGetProperty("message", out JsonElement message) ? message.GetString() ?? "" : body.GetRawText();

    public void Dispose() => _http.Dispose();
}
