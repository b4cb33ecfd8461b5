using System.Runtime.InteropServices;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Cli;

/// <summary>
/// <c>run</c>'s reload: its <c>--config</c> file read again and applied to the running autoscaler, on SIGHUP
/// (<c>systemctl reload</c>) and on <c>POST /reload</c>. The engine logs and counts each outcome.
/// </summary>
internal static class ConfigReload
{
    /// <summary>
    /// Reads <paramref name="path"/> and applies it; a file that cannot be read or parsed is rejected with its problems.
    /// <paramref name="stateDirectory"/> (<c>--state-directory</c>) overrides the file's <c>stateDirectory</c>, as at start.
    /// </summary>
    public static async Task<ReloadResult> FromFileAsync(Autoscaler autoscaler, string path, string? stateDirectory, CancellationToken cancellationToken)
    {
        ConfigurationResult configuration;
        try
        {
            configuration = AutoscaleConfiguration.Parse(await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            configuration = new ConfigurationResult(null, [$"cannot read the configuration '{path}': {e.Message}"]);
        }

        if (stateDirectory is not null && configuration.Options is { } options)
        {
            options.StateDirectory = stateDirectory;
        }

        ReloadResult result = await autoscaler.ReloadAsync(configuration, cancellationToken).ConfigureAwait(false);

        // Reading and comparing the whole configuration allocates at once what the GC then keeps committed: at 10,000
        // backends ~125 MB a reload (~270 MB before session 37), and without this the RSS went 140 → 237 MB after one
        // and 258 after two (130 and 136 with it).
        // Compacted and given back here, once per reload; the reload's collections paused ~0.2 s in all, with or without it.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="reload"/> on each SIGHUP (instead of the default, which ends the process) until disposed;
    /// <see langword="null"/> on Windows, which has no SIGHUP.
    /// </summary>
    public static IDisposable? OnHangup(Func<Task> reload, TextWriter error)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        if (HangupIgnored())
        {
            // .NET keeps an inherited SIG_IGN: the registration below would never run, and kill -HUP would do nothing, silently.
            error.WriteLine("warning: SIGHUP is ignored by this process (started under nohup, or by a parent that ignores it): kill -HUP will not reload; use POST /reload or 'haproxy-autoscale reload', or start it without nohup");
        }

        return PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            _ = Task.Run(async () =>
            {
                try
                {
                    await reload().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The engine logs every outcome; what escapes it (a custom policy's factory throwing) is said here.
                    await error.WriteLineAsync($"error: reload failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
                }
            });
        });
    }

    // Whether SIGHUP (signal 1, bit 0) is in the ignored set the kernel reports for this process.
    private static bool HangupIgnored()
    {
        try
        {
            string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            return line is not null && ulong.TryParse(line.AsSpan("SigIgn:".Length).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out ulong ignored)
                && (ignored & 1) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // no /proc (not Linux): nothing to say
        }
    }
}
