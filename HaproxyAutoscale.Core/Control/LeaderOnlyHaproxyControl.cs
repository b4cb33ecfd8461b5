using HaproxyAutoscale.HighAvailability;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Control;

/// <summary>
/// Active/standby as a control: right before every command that changes HAProxy it asks the election whether this
/// replica still leads (lease valid and not about to expire); if so the command goes out and is logged with the
/// leader's epoch, otherwise it is refused with <see cref="HaproxyErrorKind.NotLeader"/> and nothing is sent. Reads
/// (<c>show …</c>, <c>get …</c>) always go through: a standby keeps its view of HAProxy. Disposing it leaves the
/// wrapped control to its owner.
/// </summary>
internal sealed partial class LeaderOnlyHaproxyControl(IHaproxyControl inner, ILeaderElection election, ILogger logger) : IHaproxyControl, IAnswerLinesControl
{
    public string Endpoint => inner.Endpoint;

    public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default) =>
        DryRunHaproxyControl.IsReadOnly(command) ? inner.ExecuteAsync(command, cancellationToken) : inner.ExecuteAsync(Checked(command), cancellationToken);

    public async Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default)
    {
        if (commands.All(DryRunHaproxyControl.IsReadOnly))
        {
            return await inner.ExecuteBatchAsync(commands, cancellationToken).ConfigureAwait(false);
        }

        // One command at a time, each checked just before it goes: a batch must not outlive the lease.
        var results = new List<CommandResult>(commands.Count);
        foreach (string command in commands)
        {
            try
            {
                results.Add(new CommandResult(command, await ExecuteAsync(command, cancellationToken).ConfigureAwait(false), null));
            }
            catch (HaproxyControlException e)
            {
                results.Add(new CommandResult(command, e.Answer, e));
            }
        }

        return results;
    }

    // Reads stream from the wrapped control; anything else goes through ExecuteAsync.
    public Task ReadLinesAsync(string command, IAnswerLines lines, CancellationToken cancellationToken) =>
        DryRunHaproxyControl.IsReadOnly(command) ? inner.ReadLinesAsync(command, lines, cancellationToken) : AnswerLinesExtensions.FromAnswerAsync(this, command, lines, cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private string Checked(string command)
    {
        LeadershipState state = election.Current;
        if (!state.IsLeader)
        {
            NotLeader(logger, Endpoint, state.Detail, command);
            throw new HaproxyControlException(HaproxyErrorKind.NotLeader, Endpoint, command, $"not sent: this replica is not the leader ({state.Detail})");
        }

        Sending(logger, Endpoint, state.Epoch, command);
        return command;
    }

    [LoggerMessage(Scaling.AutoscaleEventIds.LeaderCommand, LogLevel.Information, "{Endpoint}: leader epoch {Epoch} sends: {Command}")]
    private static partial void Sending(ILogger logger, string endpoint, long epoch, string command);

    [LoggerMessage(Scaling.AutoscaleEventIds.NotLeaderRefused, LogLevel.Warning, "{Endpoint}: not sent, this replica is not the leader ({Reason}): {Command}")]
    private static partial void NotLeader(ILogger logger, string endpoint, string reason, string command);
}
