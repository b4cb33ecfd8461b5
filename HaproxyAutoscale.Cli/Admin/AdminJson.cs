using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Capacity;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Cli.Admin;

/// <summary>The admin endpoint's JSON: written with <see cref="Utf8JsonWriter"/> (no reflection, for Native AOT).</summary>
internal static class AdminJson
{
    /// <summary>
    /// What the daemon answers for a backend it does not autoscale, and the CLI says when an older daemon's
    /// <c>/status</c> lacks it: with the first 20 names it does autoscale (a fleet's would fill the terminal).
    /// </summary>
    public static string UnknownBackend(string backend, IReadOnlyList<string> names)
    {
        string more = names.Count > 20 ? string.Create(CultureInfo.InvariantCulture, $", … and {names.Count - 20:N0} more") : "";
        return $"no backend '{backend}' is autoscaled (configured: {string.Join(", ", names.Take(20))}{more})";
    }

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
            WriteBackend(w, b);
        }

        w.WriteEndArray();
        if (senders is { Count: > 0 })
        {
            WriteSenders(w, senders);
        }

        w.WriteEndObject();
    });

    /// <summary>One backend's object, as in <c>GET /status</c> (<c>GET /backends/NAME</c>).</summary>
    public static string Backend(BackendSnapshot backend) => JsonOutput.Write(w => WriteBackend(w, backend));

    /// <summary><c>{"logSenders": [ … ]}</c> alone, empty without a <c>tcp@</c> source (<c>GET /senders</c>, for <c>status --fleet</c>).</summary>
    public static string Senders(IReadOnlyList<LogSenderStatistics> senders) => JsonOutput.Write(w =>
    {
        w.WriteStartObject();
        WriteSenders(w, senders);
        w.WriteEndObject();
    });

    private static void WriteBackend(Utf8JsonWriter w, BackendSnapshot b)
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
        WriteCapacity(w, b.Capacity);
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
        WriteForecast(w, b.Forecast);
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

    // The TCP log source's senders (status --fleet): one object per sender address.
    private static void WriteSenders(Utf8JsonWriter w, IReadOnlyList<LogSenderStatistics> senders)
    {
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

    // "capacity": the servers' model learned from the logs, or null before any request with a response time.
    private static void WriteCapacity(Utf8JsonWriter w, LearnedCapacity? learned)
    {
        if (learned is null)
        {
            w.WriteNull("capacity");
            return;
        }

        w.WriteStartObject("capacity");
        w.WriteNumber("workers", Math.Round(learned.Workers, 3));
        w.WriteBoolean("saturated", learned.Saturated);
        if (learned.MaxConn is { } maxConn)
        {
            w.WriteNumber("maxConn", maxConn);
        }
        else
        {
            w.WriteNull("maxConn");
        }

        w.WriteNumber("serviceMeanMs", Math.Round(learned.ServiceMeanMs, 2));
        w.WriteNumber("serviceP95Ms", Math.Round(learned.ServiceP95Ms, 2));
        w.WriteNumber("samples", Math.Round(learned.Samples));
        w.WriteBoolean("confident", learned.Confident);
        w.WriteString("basis", learned.Basis);
        w.WriteString("updated", Time(learned.Updated));
        w.WriteString("driftedAt", learned.DriftedAt is { } drifted ? Time(drifted) : null);
        w.WriteString("drift", learned.Drift);
        w.WriteNumber("sloP95Ms", Math.Round(learned.SloP95Ms, 2));
        w.WriteNumber("perServerAtSlo", Math.Round(learned.PerServerAtSlo, 2));
        w.WriteBoolean("sloReachable", learned.SloReachable);
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

    // "forecast": {"mode", "servers", "leadSeconds", "days", "reason"}, or null when off or without a forecast now.
    private static void WriteForecast(Utf8JsonWriter w, Forecasting.ForecastStatus? forecast)
    {
        if (forecast is null)
        {
            w.WriteNull("forecast");
            return;
        }

        w.WriteStartObject("forecast");
        w.WriteString("mode", forecast.Mode == Forecasting.ForecastMode.On ? "on" : "forecast-only");
        w.WriteNumber("servers", forecast.Servers);
        w.WriteNumber("leadSeconds", Math.Round(forecast.Lead.TotalSeconds, 1));
        w.WriteNumber("days", forecast.Days);
        w.WriteString("reason", forecast.Reason);
        w.WriteEndObject();
    }
}
