using System.Globalization;

namespace HaproxyAutoscale.Lab;

/// <summary>
/// The shipped Lua hold script (<c>HaproxyAutoscale.Cli/deploy/haproxy-autoscale.lua</c>, what <c>haproxy-autoscale
/// lua</c> prints) for a <see cref="HaproxyConfig"/>: <see cref="Load"/> copies it into the rig's directory and gives
/// the <c>lua-load</c> line for <see cref="HaproxyConfig.Global"/>, <see cref="HoldWith"/> the backend's line.
/// </summary>
public static class LuaHold
{
    /// <summary>The script in the repository.</summary>
    public static string ScriptPath => Repository.File("HaproxyAutoscale.Cli", "deploy", "haproxy-autoscale.lua");

    /// <summary>Copies the script into <paramref name="directory"/>; returns <c>lua-load PATH</c>.</summary>
    public static string Load(TempDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string path = directory.File("haproxy-autoscale.lua");
        File.Copy(ScriptPath, path, overwrite: true);
        return $"lua-load {path}";
    }

    /// <summary><c>http-request lua.autoscale-hold-with SECONDS FALLBACK</c>: hold up to <paramref name="seconds"/>, then <paramref name="fallback"/> (<c>503</c> or <c>page</c>).</summary>
    public static string HoldWith(int seconds, string fallback = "503") =>
        string.Create(CultureInfo.InvariantCulture, $"http-request lua.autoscale-hold-with {seconds} {fallback}");
}
