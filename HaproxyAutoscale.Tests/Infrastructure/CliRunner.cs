namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>Runs the real CLI entry point in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await HaproxyAutoscale.Cli.Program.RunAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }
}
