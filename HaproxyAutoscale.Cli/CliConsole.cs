using System.CommandLine;

namespace HaproxyAutoscale.Cli;

/// <summary>Where commands write, and how they report a failure: one sentence, the stack trace only with --verbose.</summary>
internal sealed class CliConsole(TextWriter output, TextWriter error)
{
    public static readonly Option<bool> VerboseOption = new("--verbose")
    {
        Description = "Print stack traces of unexpected errors.",
        Recursive = true,
    };

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public int Fail(string message, int exitCode = ExitCodes.Failure)
    {
        Error.WriteLine($"error: {message}");
        return exitCode;
    }

    public int Fail(Exception exception, bool verbose)
    {
        Error.WriteLine($"error: {exception.Message}");
        if (verbose)
        {
            Error.WriteLine(exception);
        }

        return ExitCodes.Failure;
    }
}
