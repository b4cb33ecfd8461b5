using System.Net;
using HaproxyAutoscale.Cli.Http;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Cli.Admin;

/// <summary>
/// The daemon's admin endpoint (<c>run --admin</c>): <c>GET /status</c> (every backend), <c>GET /backends/NAME</c> (one),
/// <c>GET /senders</c>, <c>POST /backends/NAME/pause[?for=30m]</c>, <c>POST /backends/NAME/resume</c> and
/// <c>POST /reload</c> (the configuration file read again), every answer JSON. Loopback or a UNIX socket only (see
/// <see cref="AdminAddress"/>); requests from a browser (an <c>Origin</c> header, or a <c>Host</c> that is not a
/// loopback name, as DNS rebinding sends) are refused, so a web page cannot pause a backend.
/// </summary>
internal sealed class AdminEndpoint : IAsyncDisposable
{
    public static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(5);
    private readonly Autoscaler _autoscaler;
    private readonly Func<CancellationToken, Task<ReloadResult>>? _reload;
    private readonly AdminHttpServer _server;

    private AdminEndpoint(AdminAddress address, Autoscaler autoscaler, TimeSpan deadline, Func<CancellationToken, Task<ReloadResult>>? reload)
    {
        _autoscaler = autoscaler;
        _reload = reload;
        _server = AdminHttpServer.Start(address, HandleAsync, deadline);
    }

    /// <summary>Starts serving; <paramref name="reload"/> reads the configuration again and applies it (<c>POST /reload</c>; none: 404).</summary>
    public static AdminEndpoint Start(AdminAddress address, Autoscaler autoscaler, TimeSpan? deadline = null, Func<CancellationToken, Task<ReloadResult>>? reload = null) =>
        new(address, autoscaler, deadline ?? RequestDeadline, reload);

    private async Task<AdminResponse> HandleAsync(HttpRequestHead request, CancellationToken cancellationToken)
    {
        if (request.Path != "/reload" || _reload is null || request.Origin is not null || !IsLocalHost(request.Host))
        {
            return Handle(request);
        }

        if (request.Method != "POST")
        {
            return WrongMethod("POST");
        }

        ReloadResult result = await _reload(cancellationToken).ConfigureAwait(false);
        return new AdminResponse(result.Applied ? 200 : 422, AdminJson.Reload(result));
    }

    private AdminResponse Handle(HttpRequestHead request)
    {
        if (request.Origin is not null || !IsLocalHost(request.Host))
        {
            return new AdminResponse(403, AdminJson.Message("requests from browsers (Origin header) and for non-loopback host names are refused"));
        }

        string[] parts = request.Path.Split('/');
        if (request.Path == "/status")
        {
            return request.Method != "GET" ? WrongMethod("GET") : new AdminResponse(200, AdminJson.Status(_autoscaler.Snapshot(), _autoscaler.LogSenders));
        }

        if (request.Path == "/senders")
        {
            return request.Method != "GET" ? WrongMethod("GET") : new AdminResponse(200, AdminJson.Senders(_autoscaler.LogSenders));
        }

        if (parts is ["", "backends", { Length: > 0 } one])
        {
            // One backend's object: explain and status BACKEND need no snapshot of the whole fleet.
            string backend = Uri.UnescapeDataString(one);
            return request.Method != "GET" ? WrongMethod("GET")
                : _autoscaler.Snapshot(backend) is { } snapshot ? new AdminResponse(200, AdminJson.Backend(snapshot))
                : UnknownBackend(backend);
        }

        if (parts is ["", "backends", { Length: > 0 } encoded, "pause" or "resume"])
        {
            if (request.Method != "POST")
            {
                return WrongMethod("POST");
            }

            string backend = Uri.UnescapeDataString(encoded);
            return parts[3] == "pause" ? Pause(backend, request.Query) : Resume(backend);
        }

        return new AdminResponse(404, AdminJson.Message($"no such endpoint: {request.Path} (GET /status, GET /backends/NAME, GET /senders, POST /backends/NAME/pause?for=30m, POST /backends/NAME/resume, POST /reload)"));
    }

    private AdminResponse Pause(string backend, string query)
    {
        TimeSpan? duration = null;
        foreach (string parameter in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] pair = parameter.Split('=', 2);
            string value = pair.Length == 2 ? Uri.UnescapeDataString(pair[1]) : "";
            if (pair[0] != "for")
            {
                return new AdminResponse(400, AdminJson.Message($"unknown parameter '{pair[0]}'; pause takes only for=DURATION"));
            }

            if (!Durations.TryParse(value, out TimeSpan parsed) || parsed <= TimeSpan.Zero)
            {
                return new AdminResponse(400, AdminJson.Message($"for: '{value}' is not a positive duration like 30s, 5m, 1h or 00:05:00"));
            }

            duration = parsed;
        }

        if (!_autoscaler.Pause(backend, duration))
        {
            return UnknownBackend(backend);
        }

        DateTimeOffset? until = _autoscaler.Snapshot(backend)?.PausedUntil; // this backend's alone: at 10,000 backends every one's takes ~100 ms
        string howLong = duration is { } d ? $"for {Durations.Format(d)} (until {AdminJson.Time(until!.Value)})" : "until resumed";
        return new AdminResponse(200, AdminJson.Message($"{backend}: paused {howLong}: decisions are logged, no action is taken", backend, until));
    }

    private AdminResponse Resume(string backend)
    {
        bool wasPaused = _autoscaler.Snapshot(backend)?.PausedUntil is not null;
        return _autoscaler.Resume(backend)
            ? new AdminResponse(200, AdminJson.Message(wasPaused ? $"{backend}: resumed" : $"{backend}: resumed (it was not paused)", backend, null))
            : UnknownBackend(backend);
    }

    private AdminResponse UnknownBackend(string backend) => new(404, AdminJson.Message(AdminJson.UnknownBackend(backend, _autoscaler.BackendNames())));

    private static AdminResponse WrongMethod(string allowed) => new(405, AdminJson.Message($"use {allowed}"), allowed);

    // Host: absent (HTTP/1.0), "localhost", a loopback address, with or without port.
    private static bool IsLocalHost(string? host)
    {
        if (string.IsNullOrEmpty(host))
        {
            return true;
        }

        string name = host.StartsWith('[') ? host[1..Math.Max(1, host.IndexOf(']', StringComparison.Ordinal))] : host.Split(':')[0];
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(name, out IPAddress? address) && IPAddress.IsLoopback(address));
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
