using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>A backend of one HAProxy instance whose server weights look wrong, and why.</summary>
internal sealed record WeightWarning(string Endpoint, string Backend, string Text)
{
    // Uneven weights are the quiet way an autoscaled backend goes wrong: a server the autoscaler enabled gets its
    // configured weight (10 by default) next to servers left at HAProxy's (1), or someone changed one by hand.
    public static IEnumerable<WeightWarning> Find(List<StatusRow> rows)
    {
        foreach (var backend in rows.Where(r => r.State is not null).GroupBy(r => (r.Endpoint, r.Stat.Backend)))
        {
            List<string> findings = [];
            if (backend.Select(r => r.State!.InitialWeight).Distinct().Count() > 1)
            {
                findings.Add($"configured weights differ ({string.Join(", ", backend.Select(r => $"{r.Stat.Server} {r.State!.InitialWeight}"))})");
            }

            string[] changed = [.. backend
                .Where(r => r.State!.AdminState == ServerAdminState.Ready && r.State.UserWeight != r.State.InitialWeight)
                .Select(r => $"{r.Stat.Server} {r.State!.UserWeight} (configured {r.State.InitialWeight})")];
            if (changed.Length > 0)
            {
                findings.Add($"ready server{(changed.Length > 1 ? "s" : "")} not at the configured weight: {string.Join(", ", changed)}");
            }

            if (findings.Count > 0)
            {
                yield return new WeightWarning(backend.Key.Endpoint, backend.Key.Backend, string.Join("; ", findings));
            }
        }
    }
}
