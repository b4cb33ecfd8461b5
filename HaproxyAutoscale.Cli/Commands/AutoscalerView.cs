using System.Globalization;
using System.Text.Json;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>The running autoscaler's view of each backend it manages, from <c>GET /status</c>.</summary>
internal sealed record AutoscalerView(Dictionary<string, AutoscaledBackend> Backends)
{
    public static AutoscalerView From(IReadOnlyList<JsonElement> backends) => new(backends.ToDictionary(
        b => b.GetProperty("backend").GetString()!,
        b => new AutoscaledBackend(
            b.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("server").GetString()!, s => s.GetProperty("role").GetString()!),
            b.GetProperty("servers").EnumerateArray().ToDictionary(
                s => s.GetProperty("server").GetString()!, s => s.TryGetProperty("lifecycle", out JsonElement l) && l.GetString() is { } text ? text : "-"),
            b.GetProperty("paused").GetBoolean(),
            b.GetProperty("pausedUntil").GetString(),
            b.GetProperty("coverage") is { ValueKind: JsonValueKind.Number } c ? c.GetDouble() : null)
        {
            // Absent from a daemon older than scale to zero.
            Zero = b.TryGetProperty("zero", out JsonElement zero) && zero.ValueKind == JsonValueKind.True,
            Waking = b.TryGetProperty("waking", out JsonElement waking) && waking.ValueKind == JsonValueKind.Object
                ? (waking.GetProperty("since").GetString()!, waking.GetProperty("held").GetInt32()) : null,
        },
        StringComparer.Ordinal));
}

/// <summary>One backend as the running autoscaler sees it: each server's role and lifecycle, paused, coverage.</summary>
internal sealed record AutoscaledBackend(Dictionary<string, string> Roles, Dictionary<string, string> Lifecycles, bool Paused, string? PausedUntil, double? Coverage)
{
    public string PausedText => !Paused ? "no" : PausedUntil is null ? "until resumed" : $"until {PausedUntil}";

    public string CoverageText => Coverage?.ToString("0.##", CultureInfo.InvariantCulture) ?? "-";

    /// <summary>At zero by choice (scale to zero): no server active, warming or draining.</summary>
    public bool Zero { get; init; }

    /// <summary>A wake from zero in progress: since when, how many requests HAProxy holds.</summary>
    public (string Since, int Held)? Waking { get; init; }

    /// <summary>The line status prints under the table for a backend at zero or waking, else <see langword="null"/>.</summary>
    public string? ZeroText => Waking is { } w ? string.Create(CultureInfo.InvariantCulture, $"waking since {w.Since}, {w.Held} request(s) held by HAProxy")
        : Zero ? "zero (no active server, by choice: HAProxy holds the next request and wakes it)" : null;
}
