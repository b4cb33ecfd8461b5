using HaproxyAutoscale.Providers;

namespace HaproxyAutoscale.HighAvailability;

/// <summary>
/// Active/standby for capacity: like <see cref="Control.LeaderOnlyHaproxyControl"/> for commands, a start or a stop
/// runs only while this replica leads (checked right before it runs); otherwise it fails with
/// <see cref="ServerProviderErrorKind.NotLeader"/> and nothing is run. A stale leader (paused past its lease) must not
/// stop a process the new leader has put into service. Status only reads and always runs.
/// </summary>
internal sealed class LeaderOnlyServerProvider(IServerProvider inner, ILeaderElection election) : IServerProvider
{
    public Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken) => inner.GetStatusAsync(target, cancellationToken);

    public Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        ThrowIfNotLeader(target, "start");
        return inner.StartAsync(target, cancellationToken);
    }

    public Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken)
    {
        ThrowIfNotLeader(target, "stop");
        return inner.StopAsync(target, cancellationToken);
    }

    private void ThrowIfNotLeader(ServerProviderTarget target, string operation)
    {
        LeadershipState state = election.Current;
        if (!state.IsLeader)
        {
            throw new ServerProviderException(ServerProviderErrorKind.NotLeader, target, operation, $"not run: this replica is not the leader ({state.Detail})");
        }
    }
}
