using System.Globalization;
using System.Text;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Etcd;

/// <summary>
/// etcd's election recipe (the one behind <c>etcdctl elect</c>) on a lease: each replica writes
/// <c>{electionName}/{lease id}</c> attached to its own lease, and the key created first leads; its create revision is
/// the leader's epoch. The leader renews its lease every third of the TTL and counts it valid until the time the
/// renewal was <em>sent</em> plus the TTL, by its own monotonic clock: a late answer never stretches it. It leads
/// only while more than a quarter of the TTL is left; when a renewal cannot get through in time it steps down, gives
/// the lease up and campaigns again with a new one (a new key, a later epoch). A dead leader's lease expires in etcd
/// after the TTL and the next key leads.
/// </summary>
internal sealed partial class EtcdElection : ILeaderElection
{
    private readonly EtcdGateway _etcd;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _replica;
    private readonly byte[] _prefix;
    private readonly long _ttlSeconds;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _renewEvery;
    private readonly TimeSpan _margin;
    private readonly TimeSpan _pollEvery;
    private volatile Lease? _lease;
    private volatile string _standbyDetail = "campaigning";
    private string? _observedLeader;

    public EtcdElection(HighAvailabilityOptions options, ILoggerFactory loggers, TimeProvider time)
    {
        _time = time;
        _logger = loggers.CreateLogger("HaproxyAutoscale");
        _replica = string.IsNullOrEmpty(options.Replica) ? $"{Environment.MachineName}:{Environment.ProcessId}" : options.Replica;
        _prefix = Encoding.UTF8.GetBytes(options.ElectionName + "/");
        _ttl = options.LeaseTtl;
        _ttlSeconds = (long)options.LeaseTtl.TotalSeconds;
        _renewEvery = _ttl / 3;
        _margin = _ttl / 4;
        _pollEvery = _ttl / 8;
        Description = $"etcd election '{options.ElectionName}'";
        _etcd = new EtcdGateway([.. options.Etcd.Select(u => new Uri(u, UriKind.Absolute))], _renewEvery, _logger, Description);
    }

    public string Description { get; }

    public LeadershipState Current
    {
        get
        {
            Lease? lease = _lease;
            if (lease is null || lease.Epoch == 0)
            {
                return LeadershipState.Standby(_standbyDetail);
            }

            TimeSpan left = lease.ValidFor(_time);
            return left > _margin
                ? new LeadershipState(true, lease.Epoch, $"{_replica} leads (epoch {lease.Epoch}, lease {lease.Id:x} valid for {left.TotalMilliseconds:0} ms more)")
                : LeadershipState.Standby($"the lease {lease.Id:x} was last renewed {(_time.GetElapsedTime(lease.RenewedAt)).TotalMilliseconds:0} ms ago: too close to its expiry to act");
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string? failing = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await StepAsync(cancellationToken).ConfigureAwait(false);
                failing = null;
            }
            catch (EtcdException e)
            {
                if (failing != e.Message)
                {
                    Unreachable(_logger, Description, e.Message);
                    failing = e.Message;
                }

                _standbyDetail = $"etcd cannot be reached: {e.Message}";
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            StepDownIfExpiring();
            try
            {
                await Task.Delay(_pollEvery, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await ResignAsync().ConfigureAwait(false);
    }

    public ValueTask DisposeAsync()
    {
        _etcd.Dispose();
        return ValueTask.CompletedTask;
    }

    // One round: a lease and a key if there is none, a renewal when due, then who leads.
    private async Task StepAsync(CancellationToken cancellationToken)
    {
        Lease? lease = _lease;
        if (lease is null)
        {
            long sent = _time.GetTimestamp();
            LeaseResponse granted = await _etcd.GrantAsync(_ttlSeconds, cancellationToken).ConfigureAwait(false);
            lease = new Lease(granted.Id, Key(granted.Id), sent, TimeSpan.FromSeconds(granted.Ttl), Epoch: 0, Campaigned: false);
            _lease = lease;
        }
        else if (_time.GetElapsedTime(lease.RenewedAt) >= _renewEvery)
        {
            long sent = _time.GetTimestamp();
            long ttl = await _etcd.KeepAliveAsync(lease.Id, cancellationToken).ConfigureAwait(false);
            if (ttl <= 0)
            {
                StepDown(lease, "etcd no longer knows the lease (it expired)");
                return;
            }

            lease = lease with { RenewedAt = sent, Ttl = TimeSpan.FromSeconds(ttl) };
            _lease = lease;
        }

        if (!lease.Campaigned)
        {
            // Until the key is written (a failed attempt is retried next round), this replica is not a candidate.
            await _etcd.PutAsync(lease.Key, Encoding.UTF8.GetBytes(_replica), lease.Id, cancellationToken).ConfigureAwait(false);
            lease = lease with { Campaigned = true };
            _lease = lease;
            Campaigning(_logger, Description, _replica, lease.Id.ToString("x", CultureInfo.InvariantCulture), (long)lease.Ttl.TotalSeconds, _etcd.Current.ToString());
        }

        KeyValue? first = await _etcd.FirstCreatedAsync(_prefix, cancellationToken).ConfigureAwait(false);
        if (!ReferenceEquals(_lease, lease))
        {
            return; // stepped down meanwhile
        }

        bool leads = first is not null && first.Key.AsSpan().SequenceEqual(lease.Key);
        long epoch = leads ? first!.CreateRevision : 0;
        if (epoch != lease.Epoch)
        {
            _lease = lease with { Epoch = epoch };
        }

        string leader = first is null ? "nobody" : $"{Encoding.UTF8.GetString(first.Value ?? [])} (epoch {first.CreateRevision})";
        if (!leads)
        {
            _standbyDetail = $"{leader} leads";
        }

        if (leader != _observedLeader)
        {
            _observedLeader = leader;
            LeaderSeen(_logger, Description, leader, _etcd.Current.ToString());
        }
    }

    // By our own clock: a lease that may expire before the next renewal lands is not one to act on.
    private void StepDownIfExpiring()
    {
        if (_lease is { } lease && lease.ValidFor(_time) <= _margin)
        {
            StepDown(lease, $"the lease could not be renewed for {_time.GetElapsedTime(lease.RenewedAt).TotalMilliseconds:0} ms (TTL {_ttl.TotalSeconds:0} s)");
        }
    }

    private void StepDown(Lease lease, string reason)
    {
        _lease = null;
        _standbyDetail = $"stepped down: {reason}";
        SteppedDown(_logger, Description, lease.Epoch, lease.Id.ToString("x", CultureInfo.InvariantCulture), reason);

        // Best effort: if etcd can still be reached, the key goes now instead of at the lease's expiry.
        _ = RevokeQuietlyAsync(lease.Id);
    }

    private async Task RevokeQuietlyAsync(long lease)
    {
        try
        {
            await _etcd.RevokeAsync(lease, CancellationToken.None).ConfigureAwait(false);
        }
        catch (EtcdException)
        {
        }
    }

    private async Task ResignAsync()
    {
        if (_lease is not { } lease)
        {
            return;
        }

        _lease = null;
        _standbyDetail = "resigned";
        try
        {
            await _etcd.RevokeAsync(lease.Id, CancellationToken.None).ConfigureAwait(false);
            Resigned(_logger, Description, lease.Epoch, lease.Id.ToString("x", CultureInfo.InvariantCulture));
        }
        catch (EtcdException e)
        {
            Unreachable(_logger, Description, $"resigning failed ({e.Message}); the lease expires by itself");
        }
    }

    private byte[] Key(long lease) => [.. _prefix, .. Encoding.ASCII.GetBytes(lease.ToString("x", CultureInfo.InvariantCulture))];

    /// <summary>
    /// The lease held: valid until <c>RenewedAt</c> (monotonic timestamp of the renewal's sending) plus
    /// <c>Ttl</c>; <c>Epoch</c> while it leads; <c>Campaigned</c> once its key is written.
    /// </summary>
    private sealed record Lease(long Id, byte[] Key, long RenewedAt, TimeSpan Ttl, long Epoch, bool Campaigned)
    {
        public TimeSpan ValidFor(TimeProvider time) => Ttl - time.GetElapsedTime(RenewedAt);
    }

    [LoggerMessage(AutoscaleEventIds.Campaigning, LogLevel.Information, "{Election}: campaigning as {Replica} with lease {Lease} (TTL {Ttl} s) through {Member}")]
    private static partial void Campaigning(ILogger logger, string election, string replica, string lease, long ttl, string member);

    [LoggerMessage(AutoscaleEventIds.LeaderObserved, LogLevel.Information, "{Election}: {Leader} leads (seen through {Member})")]
    private static partial void LeaderSeen(ILogger logger, string election, string leader, string member);

    [LoggerMessage(AutoscaleEventIds.SteppedDown, LogLevel.Warning, "{Election}: stepped down (epoch {Epoch}, lease {Lease}): {Reason}; campaigning again with a new lease")]
    private static partial void SteppedDown(ILogger logger, string election, long epoch, string lease, string reason);

    [LoggerMessage(AutoscaleEventIds.Resigned, LogLevel.Information, "{Election}: resigned (epoch {Epoch}, lease {Lease} revoked): a standby takes over now")]
    private static partial void Resigned(ILogger logger, string election, long epoch, string lease);

    [LoggerMessage(AutoscaleEventIds.ElectionEndpointFailed, LogLevel.Warning, "{Election}: {Error}")]
    private static partial void Unreachable(ILogger logger, string election, string error);
}
