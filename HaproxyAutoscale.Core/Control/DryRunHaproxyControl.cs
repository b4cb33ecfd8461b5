using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Control;

/// <summary>
/// Dry run as a control: commands that only read (<c>show …</c>, <c>get …</c>) go to the wrapped control; every
/// other command is logged ("dry run, not sent") and answered with success without being sent. The engine then
/// runs exactly the same steps as for real. Disposing it leaves the wrapped control to its owner.
/// </summary>
internal sealed partial class DryRunHaproxyControl(IHaproxyControl inner, ILogger logger) : IHaproxyControl, IAnswerLinesControl
{
    public string Endpoint => inner.Endpoint;

    /// <summary>Wraps a control, and each instance of a fan-out, so per-instance reads stay real and writes stay unsent.</summary>
    public static (IHaproxyControl Control, IReadOnlyList<IHaproxyControl> Instances) Wrap(IHaproxyControl control, ILogger logger)
    {
        return PerInstance(control, i => new DryRunHaproxyControl(i, logger));
    }

    /// <summary>Wraps a control, and each instance of a fan-out (a fan-out of the wrapped instances), with <paramref name="wrap"/>.</summary>
    public static (IHaproxyControl Control, IReadOnlyList<IHaproxyControl> Instances) PerInstance(IHaproxyControl control, Func<IHaproxyControl, IHaproxyControl> wrap)
    {
        if (control is IHaproxyFanOut fanOut)
        {
            List<IHaproxyControl> instances = [.. fanOut.Instances.Select(wrap)];
            return (new FanOutHaproxyControl(instances), instances);
        }

        IHaproxyControl single = wrap(control);
        return (single, [single]);
    }

    public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
    {
        if (IsReadOnly(command))
        {
            return inner.ExecuteAsync(command, cancellationToken);
        }

        NotSent(logger, Endpoint, command);
        return Task.FromResult("");
    }

    public async Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default)
    {
        var results = new List<CommandResult>(commands.Count);
        foreach (string command in commands)
        {
            results.Add(new CommandResult(command, await ExecuteAsync(command, cancellationToken).ConfigureAwait(false), null));
        }

        return results;
    }

    // Reads stream from the wrapped control; anything else goes through ExecuteAsync.
    public Task ReadLinesAsync(string command, IAnswerLines lines, CancellationToken cancellationToken) =>
        IsReadOnly(command) ? inner.ReadLinesAsync(command, lines, cancellationToken) : AnswerLinesExtensions.FromAnswerAsync(this, command, lines, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Whether a command only reads (<c>show …</c>, <c>get …</c>).</summary>
    public static bool IsReadOnly(string command) =>
        command.StartsWith("show ", StringComparison.Ordinal) || command.StartsWith("get ", StringComparison.Ordinal);

    [LoggerMessage(Scaling.AutoscaleEventIds.DryRun, LogLevel.Information, "{Endpoint}: dry run, not sent: {Command}")]
    private static partial void NotSent(ILogger logger, string endpoint, string command);
}
