using System.Globalization;
using System.Net;
using System.Text.Json;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Cli.Admin;

/// <summary>
/// The daemon's admin endpoint (<c>run --admin</c>): <c>GET /status</c>, <c>POST /backends/NAME/pause[?for=30m]</c>,
/// <c>POST /backends/NAME/resume</c> and <c>POST /reload</c> (the configuration file read again), every answer JSON. Loopback or a UNIX socket only (see
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

    private async Task<AdminResponse> HandleAsync(AdminRequest request, CancellationToken cancellationToken)
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

    private AdminResponse Handle(AdminRequest request)
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

        if (parts is ["", "backends", { Length: > 0 } encoded, "pause" or "resume"])
        {
            if (request.Method != "POST")
            {
                return WrongMethod("POST");
            }

            string backend = Uri.UnescapeDataString(encoded);
            return parts[3] == "pause" ? Pause(backend, request.Query) : Resume(backend);
        }

        return new AdminResponse(404, AdminJson.Message($"no such endpoint: {request.Path} (GET /status, POST /backends/NAME/pause?for=30m, POST /backends/NAME/resume, POST /reload)"));
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

        DateTimeOffset? until = _autoscaler.Snapshot().Single(b => b.Backend == backend).PausedUntil;
        string howLong = duration is { } d ? $"for {Durations.Format(d)} (until {AdminJson.Time(until!.Value)})" : "until resumed";
        return new AdminResponse(200, AdminJson.Message($"{backend}: paused {howLong}: decisions are logged, no action is taken", backend, until));
    }

    private AdminResponse Resume(string backend)
    {
        bool wasPaused = _autoscaler.Snapshot().FirstOrDefault(b => b.Backend == backend)?.PausedUntil is not null;
        return _autoscaler.Resume(backend)
            ? new AdminResponse(200, AdminJson.Message(wasPaused ? $"{backend}: resumed" : $"{backend}: resumed (it was not paused)", backend, null))
            : UnknownBackend(backend);
    }

    private AdminResponse UnknownBackend(string backend) =>
        new(404, AdminJson.Message($"no backend '{backend}' is autoscaled (configured: {string.Join(", ", _autoscaler.Snapshot().Select(b => b.Backend))})"));

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

/// <summary>The admin endpoint's JSON: written with <see cref="Utf8JsonWriter"/> (no reflection, for Native AOT).</summary>
internal static class AdminJson
{
    public static string Message(string message) => JsonOutput.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("message", message);
        w.WriteEndObject();
    });

    public static string Message(string message, string backend, DateTimeOffset? pausedUntil) => JsonOutput.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("message", message);
        w.WriteString("backend", backend);
        w.WriteBoolean("paused", pausedUntil is not null);
        WriteUntil(w, pausedUntil);
        w.WriteEndObject();
    });

    /// <summary>
    /// A reload's outcome: <c>{"applied", "message", "errors", "added", "removed", "changed": [{"backend", "keys"}],
    /// "unchanged", "logSource", "restartRequired"}</c>.
    /// </summary>
    public static string Reload(ReloadResult result) => JsonOutput.Write(w =>
    {
        w.WriteStartObject();
        w.WriteBoolean("applied", result.Applied);
        w.WriteString("message", (result.Applied ? "reload applied: " : "reload ") + result.Summary);
        Strings(w, "errors", result.Errors);
        Strings(w, "added", result.Added);
        Strings(w, "removed", result.Removed);
        w.WriteStartArray("changed");
        foreach (ChangedBackend changed in result.Changed)
        {
            w.WriteStartObject();
            w.WriteString("backend", changed.Backend);
            Strings(w, "keys", changed.Keys);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteNumber("unchanged", result.Unchanged);
        w.WriteString("logSource", result.LogSource);
        Strings(w, "restartRequired", result.RestartRequired);
        w.WriteEndObject();
    });

    private static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (string value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    /// <summary><c>{"backends": [ … ]}</c>, one object per backend (docs/running.md, section "Admin endpoint").</summary>
    public static string Status(IReadOnlyList<BackendSnapshot> backends, IReadOnlyList<LogSenderStatistics>? senders = null) => JsonOutput.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartArray("backends");
        foreach (BackendSnapshot b in backends)
        {
            w.WriteStartObject();
            w.WriteString("backend", b.Backend);
            w.WriteStartObject("window");
            if (b.Window.HasValue)
            {
                w.WriteNumber("valueMs", Math.Round(b.Window.Value, 3));
            }
            else
            {
                w.WriteNull("valueMs");
            }

            w.WriteNumber("samples", b.Window.SampleCount);
            w.WriteEndObject();
            if (b.Coverage is { } coverage)
            {
                w.WriteNumber("coverage", Math.Round(coverage, 4));
            }
            else
            {
                w.WriteNull("coverage");
            }

            w.WriteBoolean("blind", b.Blind);
            if (b.OpenSessions is { } open)
            {
                w.WriteNumber("openSessions", open);
            }
            else
            {
                w.WriteNull("openSessions");
            }

            w.WriteBoolean("paused", b.PausedUntil is not null);
            WriteUntil(w, b.PausedUntil);
            w.WriteBoolean("zero", b.AtZero);
            WriteWaking(w, b.Waking);
            w.WriteStartArray("servers");
            foreach (ServerSnapshot server in b.Servers)
            {
                w.WriteStartObject();
                w.WriteString("server", server.Name);
                w.WriteString("role", Role(server.Role));
                w.WriteString("lifecycle", Lifecycle(server.Lifecycle));
                w.WriteString("address", server.Address);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            if (b.LastDecision is { } d)
            {
                w.WriteStartObject("lastDecision");
                w.WriteString("time", Time(d.Time));
                w.WriteString("action", d.Action switch { ScalingAction.Up => "up", ScalingAction.Down => "down", _ => "hold" });
                w.WriteStartArray("servers");
                foreach (string server in d.Servers)
                {
                    w.WriteStringValue(server);
                }

                w.WriteEndArray();
                w.WriteString("reason", d.Reason);
                w.WriteString("heldBy", d.HeldBy);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("lastDecision");
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        if (senders is { Count: > 0 })
        {
            // The TCP log source's senders (status --fleet): one object per sender address.
            w.WriteStartArray("logSenders");
            foreach (LogSenderStatistics s in senders)
            {
                w.WriteStartObject();
                w.WriteString("sender", s.Sender);
                w.WriteNumber("connections", s.Connections);
                w.WriteNumber("lines", s.Lines);
                w.WriteNumber("bytes", s.Bytes);
                w.WriteNumber("oversized", s.Oversized);
                w.WriteNumber("malformed", s.Malformed);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
        w.WriteEndObject();
    });

    public static string Role(ServerRole role) => role switch
    {
        ServerRole.Parked => "parked",
        ServerRole.Warming => "warming",
        ServerRole.Active => "active",
        ServerRole.Draining => "draining",
        ServerRole.HeldByOperator => "held-by-operator",
        _ => role.ToString().ToLowerInvariant(),
    };

    /// <summary>A lifecycle state as status, the admin endpoint and the demo show it: <c>stopped</c>, <c>starting</c>, … <c>parked</c>, <c>stopping</c>.</summary>
    public static string Lifecycle(ServerLifecycleState state) => state switch
    {
        ServerLifecycleState.HeldByOperator => "held-by-operator",
        _ => state.ToString().ToLowerInvariant(),
    };

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    // "waking": {"since", "held"} while a wake from zero is in progress, else null.
    public static void WriteWaking(Utf8JsonWriter w, BackendWaking? waking)
    {
        if (waking is null)
        {
            w.WriteNull("waking");
            return;
        }

        w.WriteStartObject("waking");
        w.WriteString("since", Time(waking.Since));
        w.WriteNumber("held", waking.Held);
        w.WriteEndObject();
    }

    // "pausedUntil": null both when not paused and when paused until resumed ("paused" tells them apart).
    private static void WriteUntil(Utf8JsonWriter w, DateTimeOffset? until)
    {
        if (until is { } u && u != DateTimeOffset.MaxValue)
        {
            w.WriteString("pausedUntil", Time(u));
        }
        else
        {
            w.WriteNull("pausedUntil");
        }
    }
}
