using System.Text;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// What <see cref="Autoscaler.ReloadAsync(Configuration.AutoscaleOptions, CancellationToken)"/> did with a configuration: rejected (every problem with its key path; the
/// running configuration is kept), or applied (backends added, removed and changed, the log source re-bound, and the
/// settings that changed but need a restart, whose running values are kept).
/// </summary>
public sealed class ReloadResult
{
    /// <summary>Whether the configuration was applied; <see langword="false"/>: rejected, nothing changed.</summary>
    public required bool Applied { get; init; }

    /// <summary>Why it was rejected: every problem as <c>path: message</c> (empty when applied).</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>The backends the reload added (their servers' state is adopted from HAProxy's before any is acted on).</summary>
    public IReadOnlyList<string> Added { get; init; } = [];

    /// <summary>The backends the reload removed: no longer acted on; their servers are left as they are in HAProxy.</summary>
    public IReadOnlyList<string> Removed { get; init; } = [];

    /// <summary>The backends whose options changed, with the keys that changed (<c>policy</c>, <c>window</c>, <c>servers</c>…).</summary>
    public IReadOnlyList<ChangedBackend> Changed { get; init; } = [];

    /// <summary>How many backends the reload left as they were (they keep everything they know).</summary>
    public int Unchanged { get; init; }

    /// <summary>The log source's new address when the reload re-bound it (or changed its allowed senders), else <see langword="null"/>.</summary>
    public string? LogSource { get; init; }

    /// <summary>
    /// Settings that changed but cannot change at run time (<c>ha</c>, <c>haproxy.endpoints</c>…), by key path: the
    /// autoscaler keeps running with their current values until it is restarted; the rest of the reload applied.
    /// </summary>
    public IReadOnlyList<string> RestartRequired { get; init; } = [];

    /// <summary>One line: <c>added a, b; removed c; changed d (policy, window); unchanged 7</c>, or the problems.</summary>
    public string Summary
    {
        get
        {
            if (!Applied)
            {
                return $"rejected, the running configuration is kept: {string.Join("; ", Errors)}";
            }

            var text = new StringBuilder();
            Part(text, "added", Added);
            Part(text, "removed", Removed);
            Part(text, "changed", [.. Changed.Select(c => $"{c.Backend} ({string.Join(", ", c.Keys)})")]);
            text.Append(text.Length > 0 ? "; " : "").Append("unchanged ").Append(Unchanged);
            if (LogSource is not null)
            {
                text.Append("; log source ").Append(LogSource);
            }

            Part(text, "needs a restart (running values kept)", RestartRequired);
            return text.ToString();
        }
    }

    private static void Part(StringBuilder text, string what, IReadOnlyList<string> items)
    {
        if (items.Count > 0)
        {
            text.Append(text.Length > 0 ? "; " : "").Append(what).Append(' ').Append(string.Join(", ", items));
        }
    }
}

/// <summary>A backend a reload changed, and the keys of its options that changed.</summary>
/// <param name="Backend">The backend's name.</param>
/// <param name="Keys">The changed keys of <c>backends.NAME</c>, in the configuration's order.</param>
public sealed record ChangedBackend(string Backend, IReadOnlyList<string> Keys);
