using HaproxyAutoscale.Cli.LogFiles;
using HaproxyAutoscale.Simulation;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// The server model part of <c>simulate</c>: fits a <see cref="ServerModel"/> from log files (plain, gzip, pipes,
/// <c>-</c>; several as one log, in any order) and, for <c>simulate --fit</c>, prints it as JSON.
/// </summary>
internal static class SimulateFitOutput
{
    /// <summary>
    /// Reads every log and fits the model. A path that cannot be read fails at once (every path is checked before
    /// anything is read); the fit's errors and notes are in the result for the caller to report.
    /// </summary>
    /// <exception cref="LogInputException">A log cannot be opened or is corrupt; the message names it.</exception>
    public static async Task<ServerModelFitResult> FitAsync(
        IReadOnlyList<string> logPaths, double coldStartMs, double idleToColdS, Func<Stream> standardInput, CancellationToken cancellationToken)
    {
        var fitter = new ServerModelFitter(coldStartMs, idleToColdS);
        List<LogInput> inputs = LogInput.OpenAll(logPaths, standardInput);
        try
        {
            foreach (LogInput input in inputs)
            {
                await input.ReadAsync(fitter.AddLine, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            inputs.ForEach(input => input.Dispose());
        }

        return fitter.Fit();
    }

    /// <summary>
    /// <c>simulate --fit LOG…</c>: prints the model of every backend that could be fitted as JSON on standard output,
    /// each note as <c>note: …</c> and each error as <c>error: …</c> on standard error. Returns
    /// <see cref="ExitCodes.Failure"/> when a log cannot be read or a backend could not be fitted.
    /// </summary>
    public static async Task<int> PrintFitAsync(
        CliConsole console, IReadOnlyList<string> logPaths, double coldStartMs, double idleToColdS, Func<Stream> standardInput, CancellationToken cancellationToken)
    {
        ServerModelFitResult result;
        try
        {
            result = await FitAsync(logPaths, coldStartMs, idleToColdS, standardInput, cancellationToken).ConfigureAwait(false);
        }
        catch (LogInputException e)
        {
            return console.Fail(e.Message);
        }

        if (result.Model.Backends.Count > 0)
        {
            console.Out.WriteLine(ServerModelJson.Write(result.Model));
        }

        foreach (string note in result.Notes)
        {
            console.Error.WriteLine($"note: {note}");
        }

        foreach (string error in result.Errors)
        {
            console.Fail(error);
        }

        return result.Succeeded ? ExitCodes.Success : ExitCodes.Failure;
    }
}
