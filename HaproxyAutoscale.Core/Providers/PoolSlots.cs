using System.Globalization;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Providers;

/// <summary>
/// A backend's pool slots (<c>auto1</c> … <c>autoN</c>) are servers like the configured ones for the engine: the
/// engine's copy of the options lists them after the configured servers, parked and stopped, so the decider picks
/// them like any parked server. They exist in HAProxy only between their start (<c>add server</c>) and their stop
/// (<c>del server</c>).
/// </summary>
internal static class PoolSlots
{
    /// <summary>Whether <paramref name="server"/> is one of the backend's pool slots.</summary>
    public static bool IsSlot(BackendOptions backend, string server) => backend.Pool is { } pool && IsSlotName(pool, server);

    /// <summary>Whether <paramref name="name"/> is <c>{prefix}{1..max}</c>.</summary>
    public static bool IsSlotName(ServerPoolOptions pool, string name) =>
        pool.Prefix is { Length: > 0 } prefix && name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.Ordinal) && name[prefix.Length] != '0'
        && int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= pool.Max;

    /// <summary>Appends the pool's slots to the engine's own copy of <paramref name="backend"/>'s servers.</summary>
    public static void Expand(BackendOptions backend)
    {
        if (backend.Pool is not { } pool)
        {
            return;
        }

        for (int i = 1; i <= pool.Max; i++)
        {
            backend.Servers.Add(new ServerOptions { Name = pool.Prefix + i.ToString(CultureInfo.InvariantCulture) });
        }
    }
}
