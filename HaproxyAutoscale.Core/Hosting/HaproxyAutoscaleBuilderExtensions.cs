using HaproxyAutoscale.Control;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Hosting;

/// <summary>Customises the autoscaler registered by <c>AddHaproxyAutoscale</c>.</summary>
public static class HaproxyAutoscaleBuilderExtensions
{
    /// <summary>Makes a custom policy available under <paramref name="name"/> (case-insensitive; built-in names are taken).</summary>
    public static IHaproxyAutoscaleBuilder AddPolicy(this IHaproxyAutoscaleBuilder builder, string name, ScalingPolicyFactory factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(new PolicyRegistration(name, factory));
        return builder;
    }

    /// <summary>Makes a custom window available under <paramref name="kind"/> (case-insensitive; built-in kinds are taken).</summary>
    public static IHaproxyAutoscaleBuilder AddWindow(this IHaproxyAutoscaleBuilder builder, string kind, ResponseTimeWindowFactory factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(new WindowRegistration(kind, factory));
        return builder;
    }

    /// <summary>Makes a custom server provider available under <paramref name="name"/> (case-insensitive; <c>exec</c> is taken).</summary>
    public static IHaproxyAutoscaleBuilder AddServerProvider(this IHaproxyAutoscaleBuilder builder, string name, ServerProviderFactory factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(new ServerProviderRegistration(name, factory));
        return builder;
    }

    /// <summary>Reads logs from a source created by <paramref name="factory"/> instead of <c>logs.source</c>.</summary>
    public static IHaproxyAutoscaleBuilder UseLogSource(this IHaproxyAutoscaleBuilder builder, Func<IServiceProvider, ILogSource> factory) =>
        Replace(builder, factory);

    /// <summary>Sends commands through a control created by <paramref name="factory"/> instead of <c>haproxy.endpoints</c>.</summary>
    public static IHaproxyAutoscaleBuilder UseControl(this IHaproxyAutoscaleBuilder builder, Func<IServiceProvider, IHaproxyControl> factory) =>
        Replace(builder, factory);

    /// <summary>Warms servers up with <paramref name="factory"/>'s warm-up instead of HTTP GETs.</summary>
    public static IHaproxyAutoscaleBuilder UseWarmup(this IHaproxyAutoscaleBuilder builder, Func<IServiceProvider, IWarmup> factory) =>
        Replace(builder, factory);

    /// <summary>
    /// Creates the leader election with <paramref name="factory"/> from the options' <c>ha</c> section when there is one
    /// (the autoscaler disposes it); without that section the autoscaler acts alone. An <see cref="ILeaderElection"/>
    /// registered as a service is used instead. <c>HaproxyAutoscale.Etcd</c>'s <c>UseEtcdLeaderElection()</c> calls this.
    /// </summary>
    public static IHaproxyAutoscaleBuilder UseLeaderElection(this IHaproxyAutoscaleBuilder builder, Func<HighAvailabilityOptions, ILoggerFactory, TimeProvider, ILeaderElection> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        builder.Services.Replace(ServiceDescriptor.Singleton(new LeaderElectionRegistration(factory)));
        return builder;
    }

    private static IHaproxyAutoscaleBuilder Replace<TService>(IHaproxyAutoscaleBuilder builder, Func<IServiceProvider, TService> factory)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton(factory));
        return builder;
    }
}

internal sealed record ServerProviderRegistration(string Name, ServerProviderFactory Factory);

internal sealed record PolicyRegistration(string Name, ScalingPolicyFactory Factory);

internal sealed record WindowRegistration(string Kind, ResponseTimeWindowFactory Factory);

internal sealed record LeaderElectionRegistration(Func<HighAvailabilityOptions, ILoggerFactory, TimeProvider, ILeaderElection> Factory);
