using System.CommandLine;
using HaproxyAutoscale.Checks;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// <c>check --config FILE</c>: validates the configuration, then runs <see cref="PreflightChecks"/> against every
/// endpoint. One line per finding; exit 0 all good (warnings allowed), 1 problems, 2 configuration errors.
/// </summary>
internal static class CheckCommand
{
    public static Command Create(CliConsole console)
    {
        var config = new Option<string>("--config") { Description = "The autoscaler configuration (JSON).", Required = true };
        var command = new Command("check", "Validate the configuration against the running HAProxy instances.") { config };
        command.SetAction((parseResult, cancellationToken) => RunAsync(console, parseResult.GetRequiredValue(config), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, string configPath, CancellationToken cancellationToken)
    {
        (AutoscaleOptions? options, int exitCode) = await ConfigFile.LoadAsync(console, configPath, cancellationToken).ConfigureAwait(false);
        if (options is null)
        {
            return exitCode;
        }

        console.Out.WriteLine($"ok       {configPath}: configuration valid ({options.Backends.Count} backend(s))");
        IReadOnlyList<PreflightFinding> findings = await PreflightChecks.RunAsync(options, cancellationToken).ConfigureAwait(false);
        foreach (PreflightFinding finding in findings)
        {
            string label = finding.Severity switch
            {
                PreflightSeverity.Ok => "ok     ",
                PreflightSeverity.Warning => "warning",
                _ => "problem",
            };
            console.Out.WriteLine($"{label}  {finding.Message}");
        }

        return findings.Any(f => f.Severity == PreflightSeverity.Problem) ? ExitCodes.Failure : ExitCodes.Success;
    }
}
