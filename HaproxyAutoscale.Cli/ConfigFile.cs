using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Cli;

/// <summary>Loads the configuration file for a command; reports every problem with its path (exit code 2).</summary>
internal static class ConfigFile
{
    public static async Task<(AutoscaleOptions? Options, int ExitCode)> LoadAsync(CliConsole console, string path, CancellationToken cancellationToken)
    {
        string json;
        try
        {
            json = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, console.Fail($"cannot read the configuration '{path}': {e.Message}", ExitCodes.Usage));
        }

        ConfigurationResult result = AutoscaleConfiguration.Parse(json);
        if (!result.IsValid)
        {
            await console.Error.WriteLineAsync($"error: {path} has {result.Errors.Count} problem{(result.Errors.Count == 1 ? "" : "s")}:").ConfigureAwait(false);
            foreach (string error in result.Errors)
            {
                await console.Error.WriteLineAsync($"  {error}").ConfigureAwait(false);
            }

            return (null, ExitCodes.Usage);
        }

        return (result.Options, ExitCodes.Success);
    }
}
