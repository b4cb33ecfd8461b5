using System.Globalization;

namespace HaproxyAutoscale.Control;

/// <summary>
/// What each HAProxy release brings that the autoscaler uses, by the release <c>show info</c> reports. Checked against
/// the management guide of each version: <c>add server</c>/<c>del server</c> arrived in 2.4, the <c>wait</c> command
/// in 3.0-dev3 and its <c>srv-removable</c> condition in 3.0-dev9 (both first released in 3.0).
/// </summary>
internal static class HaproxyVersions
{
    /// <summary><c>add server</c> and <c>del server</c>: what server pools and providers need.</summary>
    public static Version DynamicServers { get; } = new(2, 4);

    /// <summary><c>wait &lt;delay&gt; srv-removable b/s</c>.</summary>
    public static Version WaitServerRemovable { get; } = new(3, 0);

    /// <summary>
    /// The release at the start of a <c>show info</c> version (<c>3.0.11-9e587df</c> → 3.0.11,
    /// <c>2.6.12-1+deb12u4</c> → 2.6.12, <c>3.1-dev5</c> → 3.1), or <see langword="null"/> when it does not start with one.
    /// </summary>
    public static Version? Parse(string version)
    {
        ArgumentNullException.ThrowIfNull(version);
        int end = 0;
        while (end < version.Length && (char.IsAsciiDigit(version[end]) || version[end] == '.'))
        {
            end++;
        }

        string[] parts = version[..end].TrimEnd('.').Split('.');
        if (parts.Length < 2 || parts.Length > 4)
        {
            return null;
        }

        var numbers = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return null;
            }
        }

        return numbers.Length switch
        {
            2 => new Version(numbers[0], numbers[1]),
            3 => new Version(numbers[0], numbers[1], numbers[2]),
            _ => new Version(numbers[0], numbers[1], numbers[2], numbers[3]),
        };
    }

    /// <summary>Whether the release is known and at least <paramref name="minimum"/>.</summary>
    public static bool Has(HaproxyInfo info, Version minimum) => info.Release is { } release && release >= minimum;

    /// <summary>
    /// A warning for a release without dynamic servers (below 2.4), or <see langword="null"/>. An unknown version
    /// (a build that does not start with a release number) is not warned about.
    /// </summary>
    public static string? Warning(HaproxyInfo info) =>
        info.Release is { } release && release < DynamicServers
            ? $"HAProxy {info.Version} is older than {DynamicServers}: it cannot add or delete servers at run time (add server, del server), which backends with a pool or a provider need"
            : null;
}
