using Microsoft.Extensions.DependencyInjection;

namespace HaproxyAutoscale.Hosting;

/// <summary>
/// The autoscaler registered by <c>AddHaproxyAutoscale</c>, customised through extension methods on this interface
/// (<see cref="HaproxyAutoscaleBuilderExtensions"/>: custom policies, windows, server providers, log source, control,
/// warm-up). It carries only the service collection, so that other packages can add their own extensions.
/// </summary>
public interface IHaproxyAutoscaleBuilder
{
    /// <summary>The service collection the autoscaler is registered in.</summary>
    IServiceCollection Services { get; }
}
