using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaproxyAutoscale.Etcd;

/// <summary>Creates the etcd leader election for active/standby autoscaler replicas (the <c>ha</c> section).</summary>
public static class EtcdLeaderElection
{
    /// <summary>
    /// An election among the replicas that share <see cref="HighAvailabilityOptions.ElectionName"/> on the etcd cluster
    /// <see cref="HighAvailabilityOptions.Etcd"/>, with a lease of <see cref="HighAvailabilityOptions.LeaseTtl"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options break a rule of the <c>ha</c> section (an etcd URL, the TTL).</exception>
    public static ILeaderElection Create(HighAvailabilityOptions options, ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        return new EtcdElection(options, loggers ?? NullLoggerFactory.Instance, time ?? TimeProvider.System);
    }

    /// <summary>
    /// Makes the autoscaler one of several active/standby replicas when its options have an <c>ha</c> section (the
    /// election is created from it and disposed with the autoscaler); without the section it acts alone.
    /// </summary>
    public static AutoscalerBuilder UseEtcdLeaderElection(this AutoscalerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseLeaderElection((options, loggers, time) => Create(options, loggers, time));
    }

    /// <summary>
    /// Makes the autoscaler registered by <c>AddHaproxyAutoscale</c> one of several active/standby replicas when its
    /// options have an <c>ha</c> section (the election is created from it and disposed with the autoscaler); without the
    /// section it acts alone.
    /// </summary>
    public static IHaproxyAutoscaleBuilder UseEtcdLeaderElection(this IHaproxyAutoscaleBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseLeaderElection((options, loggers, time) => Create(options, loggers, time));
    }
}
