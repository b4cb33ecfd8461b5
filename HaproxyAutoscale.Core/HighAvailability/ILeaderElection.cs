namespace HaproxyAutoscale.HighAvailability;

/// <summary>
/// Elects one leader among autoscaler replicas. While <see cref="RunAsync"/> runs, the replica campaigns, and once
/// elected keeps its lease renewed; it steps down (<see cref="Current"/> says standby) as soon as its lease could
/// expire before it is renewed. The autoscaler asks <see cref="Current"/> before each evaluation and right before
/// every Runtime API command that changes HAProxy. The etcd implementation is in the <c>HaproxyAutoscale.Etcd</c>
/// package; a custom one plugs in through <see cref="Hosting.AutoscalerBuilder.UseLeaderElection(ILeaderElection)"/>.
/// </summary>
public interface ILeaderElection : IAsyncDisposable
{
    /// <summary>What the election is and where it runs, for messages (e.g. <c>etcd election 'haproxy-autoscale'</c>).</summary>
    string Description { get; }

    /// <summary>
    /// This replica's leadership at the moment of the call: leader only while its lease is valid and not about to
    /// expire, judged by this process's own monotonic clock (a renewal that arrives late does not count for more than
    /// the time since it was sent). Cheap and thread-safe: it is asked before every command.
    /// </summary>
    LeadershipState Current { get; }

    /// <summary>
    /// Campaigns, renews the lease and steps down when it cannot, until <paramref name="cancellationToken"/> is
    /// cancelled; then gives the leadership up (so a standby takes over at once) and returns. Never throws for an
    /// unreachable coordination service: it keeps trying, as a standby.
    /// </summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>A replica's leadership at one moment.</summary>
/// <param name="IsLeader">Whether this replica leads and may send commands that change HAProxy.</param>
/// <param name="Epoch">
/// The leadership's epoch while leader (for etcd, the create revision of the replica's election key): it grows with
/// every new leadership, so two leaders' commands can be told apart and ordered; 0 when not leader.
/// </param>
/// <param name="Detail">Why, for messages: who leads, or why this replica does not.</param>
public sealed record LeadershipState(bool IsLeader, long Epoch, string Detail)
{
    /// <summary>Not the leader, for <paramref name="detail"/>.</summary>
    public static LeadershipState Standby(string detail) => new(false, 0, detail);
}
