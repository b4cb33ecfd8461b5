using System.Diagnostics.Metrics;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaproxyAutoscale.Hosting;

/// <summary>Registers the autoscaler in a .NET host.</summary>
public static class HaproxyAutoscaleServiceCollectionExtensions
{
    /// <summary>
    /// Adds the autoscaler as a hosted service, configured from <paramref name="configuration"/> (the same keys as the
    /// JSON file, e.g. the <c>HaproxyAutoscale</c> section of appsettings.json). The configuration is read and validated
    /// when the host starts: a problem fails the start with an <see cref="AutoscaleOptionsException"/> listing every one.
    /// </summary>
    public static IHaproxyAutoscaleBuilder AddHaproxyAutoscale(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddHaproxyAutoscale(registries => AutoscaleConfiguration.Read(configuration, registries));
    }

    /// <summary>
    /// Adds the autoscaler as a hosted service with options built in code. They are validated when the host starts, by
    /// the same rules as the JSON file (<see cref="AutoscaleOptionsValidator"/>): a wrong option fails the start with
    /// an <see cref="AutoscaleOptionsException"/> listing every problem.
    /// </summary>
    public static IHaproxyAutoscaleBuilder AddHaproxyAutoscale(this IServiceCollection services, AutoscaleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return services.AddHaproxyAutoscale(_ => new ConfigurationResult(options, []));
    }

    private static IHaproxyAutoscaleBuilder AddHaproxyAutoscale(this IServiceCollection services, Func<AutoscaleRegistries, ConfigurationResult> read)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(new AutoscaleOptionsReader(read));
        services.TryAddSingleton(provider =>
        {
            var registry = new ScalingPolicyRegistry();
            foreach (PolicyRegistration registration in provider.GetServices<PolicyRegistration>())
            {
                registry.Add(registration.Name, registration.Factory);
            }

            return registry;
        });
        services.TryAddSingleton(provider =>
        {
            var registry = new ResponseTimeWindowRegistry();
            foreach (WindowRegistration registration in provider.GetServices<WindowRegistration>())
            {
                registry.Add(registration.Kind, registration.Factory);
            }

            return registry;
        });
        services.TryAddSingleton(provider =>
        {
            var registry = new ServerProviderRegistry();
            foreach (ServerProviderRegistration registration in provider.GetServices<ServerProviderRegistration>())
            {
                registry.Add(registration.Name, registration.Factory);
            }

            return registry;
        });
        services.TryAddSingleton(CreateAutoscaler);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HaproxyAutoscaleService>());
        return new HaproxyAutoscaleBuilder(services);
    }

    private static Autoscaler CreateAutoscaler(IServiceProvider provider)
    {
        var registries = new AutoscaleRegistries
        {
            Policies = provider.GetRequiredService<ScalingPolicyRegistry>(),
            Windows = provider.GetRequiredService<ResponseTimeWindowRegistry>(),
            Providers = provider.GetRequiredService<ServerProviderRegistry>(),
        };
        ConfigurationResult result = provider.GetRequiredService<AutoscaleOptionsReader>().Read(registries);
        if (!result.IsValid)
        {
            throw new AutoscaleOptionsException(result.Errors);
        }

        // Build() validates options built in code with the same rules.
        var builder = new AutoscalerBuilder(result.Options!)
            .UsePolicies(registries.Policies)
            .UseWindows(registries.Windows)
            .UseProviders(registries.Providers)
            .UseTimeProvider(provider.GetRequiredService<TimeProvider>())
            .UseLoggerFactory(provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance);

        if (provider.GetService<IMeterFactory>() is { } meters)
        {
            builder.UseMeterFactory(meters);
        }

        if (provider.GetService<ILogSource>() is { } source)
        {
            builder.UseLogSource(source);
        }

        if (provider.GetService<IHaproxyControl>() is { } control)
        {
            builder.UseControl(control);
        }

        if (provider.GetService<HighAvailability.ILeaderElection>() is { } election)
        {
            builder.UseLeaderElection(election);
        }

        if (provider.GetService<LeaderElectionRegistration>() is { } elections)
        {
            builder.UseLeaderElection(elections.Factory);
        }

        if (provider.GetService<IWarmup>() is { } warmup)
        {
            builder.UseWarmup(warmup);
        }

        return builder.Build();
    }
}

internal sealed class AutoscaleOptionsReader(Func<AutoscaleRegistries, ConfigurationResult> read)
{
    public ConfigurationResult Read(AutoscaleRegistries registries) => read(registries);
}

internal sealed class HaproxyAutoscaleBuilder(IServiceCollection services) : IHaproxyAutoscaleBuilder
{
    public IServiceCollection Services { get; } = services;
}

/// <summary>Runs the <see cref="Autoscaler"/> for the host's lifetime; creating it validates the configuration.</summary>
internal sealed class HaproxyAutoscaleService(IServiceProvider provider) : BackgroundService
{
    private Autoscaler? _autoscaler;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Fail the host's start, not a background task, when the configuration is wrong.
        _autoscaler = provider.GetRequiredService<Autoscaler>();
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => _autoscaler!.RunAsync(stoppingToken);
}
