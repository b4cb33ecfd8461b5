using System.CommandLine;
using System.Runtime.InteropServices;
using HaproxyAutoscale.Cli.Commands;

namespace HaproxyAutoscale.Cli;

/// <summary>Entry point of the <c>haproxy-autoscale</c> command.</summary>
public static class Program
{
    /// <summary>Runs the command line; returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> Main(string[] args)
    {
        // Ctrl-C and SIGTERM (systemd's stop) end the daemon cleanly: cancel, let it finish, exit 0.
        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        return await RunAsync(args, Console.Out, Console.Error, stop.Token).ConfigureAwait(false);
    }

    /// <summary>Runs the command line with the given output writers (tests call this in-process).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var console = new CliConsole(output, error);
        RootCommand root = new("Autoscales HAProxy backends from HAProxy's own request logs.")
        {
            AnalyzeCommand.Create(console),
            StatusCommand.Create(console),
            ReplayCommand.Create(console),
            SimulateCommand.CreateSimulate(console),
            SimulateCommand.CreateTune(console),
            RunCommand.Create(console),
            CheckCommand.Create(console),
            LuaCommand.Create(console),
            AdminCommands.CreateExplain(console),
            AdminCommands.CreatePause(console),
            AdminCommands.CreateResume(console),
            AdminCommands.CreateReload(console),
            Demo.DemoCommand.Create(console),
            Demo.DemoAppCommand.Create(console),
        };
        root.Options.Add(CliConsole.VerboseOption);

        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var parseError in parsed.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}").ConfigureAwait(false);
            }

            await error.WriteLineAsync("Run 'haproxy-autoscale --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // signals are handled in Main
        };
        try
        {
            return await parsed.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return console.Fail(e, parsed.GetValue(CliConsole.VerboseOption));
        }
        catch (Exception e)
        {
            // Last resort: a bug or a case no command foresaw is still one line, the stack trace only with --verbose.
            string firstLine = e.Message.Split('\n', 2)[0].TrimEnd();
            console.Fail($"unexpected {e.GetType().Name}: {firstLine} (run with --verbose for details)");
            if (parsed.GetValue(CliConsole.VerboseOption))
            {
                await error.WriteLineAsync(e.ToString()).ConfigureAwait(false);
            }

            return ExitCodes.Failure;
        }
    }
}

/// <summary>Process exit codes, the same for every command.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>A runtime failure; the message says what and where.</summary>
    public const int Failure = 1;

    /// <summary>A usage or configuration error.</summary>
    public const int Usage = 2;
}
