using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Picks the servers a decision moves. Up: the first parked servers in configuration order (random: any). Down: by
/// the selection, the last active in configuration order, the fewest sessions, or the newest; never an alwaysUp
/// server, never a server in its failure back-off, and with <c>behavior.down.minIdleBeforePark</c> only servers idle
/// that long. Not thread-safe: callers hold the backend's lock.
/// </summary>
internal sealed class ServerPicker(BackendOptions options, ServerTable servers, Random random)
{
    /// <summary>Up to <paramref name="count"/> parked servers to enable.</summary>
    public List<string> ToEnable(int count, DateTimeOffset now) => Pick(ServerRole.Parked, count, first: true, now, TimeSpan.Zero);

    /// <summary>Up to <paramref name="count"/> active servers to drain; <paramref name="ignoreIdle"/>: as if no idle time were needed.</summary>
    public List<string> ToDrain(int count, DateTimeOffset now, bool ignoreIdle = false) =>
        Pick(ServerRole.Active, count, first: false, now, ignoreIdle ? TimeSpan.Zero : options.Behavior.Down.MinIdleBeforePark);

    private List<string> Pick(ServerRole role, int count, bool first, DateTimeOffset now, TimeSpan minIdle)
    {
        List<string> candidates = [.. options.Servers
            .Where(s => servers.RoleOf(s.Name) == role && servers.IsAvailable(s.Name, now) && !(role == ServerRole.Active && s.AlwaysUp))
            .Where(s => minIdle <= TimeSpan.Zero || now - servers.LastRequestOf(s.Name) >= minIdle)
            .Select(s => s.Name)];
        if (options.Selection == ServerSelection.Random)
        {
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
        }
        else if (!first)
        {
            candidates.Reverse();
            if (options.Selection == ServerSelection.LeastSessions)
            {
                // Unknown sessions (no counter reading yet) sort last; ties keep the ordered choice (stable sort).
                candidates = [.. candidates.OrderBy(s => servers.SessionsOf(s) is var n and >= 0 ? n : int.MaxValue)];
            }
            else if (options.Selection == ServerSelection.Newest)
            {
                candidates = [.. candidates.OrderByDescending(servers.EnabledAt)];
            }
        }

        return candidates.Take(count).ToList();
    }
}
