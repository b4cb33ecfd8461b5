namespace HaproxyAutoscale.Lab;

/// <summary>
/// Which <c>haproxy</c> and <c>halog</c> binaries the lab runs: <c>HPA_HAPROXY</c> and <c>HPA_HALOG</c> (paths) when
/// set, so that one CI job can run every HAProxy test against another version; otherwise the one on PATH, else the
/// Debian/Ubuntu package's <c>/usr/sbin</c>. Everything that starts HAProxy or halog (launcher, <c>haproxy -c</c>,
/// halog comparisons, the demo) takes its path from here.
/// </summary>
public static class HaproxyBinary
{
    /// <summary>The environment variable naming the haproxy binary.</summary>
    public const string Variable = "HPA_HAPROXY";

    /// <summary>The environment variable naming the halog binary.</summary>
    public const string HalogVariable = "HPA_HALOG";

    /// <summary>The haproxy binary's path (it may not exist: see <see cref="Require"/>).</summary>
    public static string Path { get; } = Choose(Variable, "haproxy");

    /// <summary>The halog binary's path (it may not exist).</summary>
    public static string HalogPath { get; } = Choose(HalogVariable, "halog");

    /// <summary>Whether <see cref="Path"/> exists.</summary>
    public static bool Exists => File.Exists(Path);

    /// <summary>Why HAProxy cannot run here, for an error message; null when it can.</summary>
    public static string? Problem => Exists
        ? null
        : Environment.GetEnvironmentVariable(Variable) is { Length: > 0 }
            ? $"{Variable}={Path}: no such file"
            : "haproxy is not installed (not on PATH nor in /usr/sbin; or set HPA_HAPROXY to its path): apt-get install -y haproxy";

    /// <summary>
    /// The version of <see cref="Path"/> as <c>show info</c> reports it (<c>2.6.12-1+deb12u4</c>, <c>3.0.11-9e587df</c>),
    /// read once from <c>haproxy -v</c>.
    /// </summary>
    public static string Version => LazyVersion.Value;

    private static readonly Lazy<string> LazyVersion = new(() =>
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Require(), "-v") { RedirectStandardOutput = true, UseShellExecute = false })
            ?? throw new InvalidOperationException($"{Path} -v did not start");
        string firstLine = process.StandardOutput.ReadLine() ?? "";
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return firstLine.StartsWith("HAProxy version ", StringComparison.Ordinal)
            ? firstLine.Split(' ')[2]
            : throw new InvalidOperationException($"{Path} -v said '{firstLine}'");
    });

    /// <summary>Returns <see cref="Path"/>; throws with <see cref="Problem"/> when it does not exist.</summary>
    public static string Require() => Problem is { } problem ? throw new InvalidOperationException(problem) : Path;

    private static string Choose(string variable, string name)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } chosen)
        {
            return chosen;
        }

        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = System.IO.Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return System.IO.Path.Combine("/usr/sbin", name);
    }
}
