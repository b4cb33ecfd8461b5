using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// What an embedder registered, by name: the policies, windows and server providers a configuration may choose by
/// <c>kind</c>. <see cref="AutoscaleConfiguration.Parse"/> and <see cref="AutoscaleOptionsValidator.Validate"/> check
/// each backend's choices and settings against them. Each starts with the built-in ones; add yours:
/// <c>new AutoscaleRegistries { Policies = new ScalingPolicyRegistry().Add("mine", …) }</c>.
/// </summary>
public sealed class AutoscaleRegistries
{
    /// <summary>The policies available by kind.</summary>
    /// <value>The default is the built-in policies.</value>
    public ScalingPolicyRegistry Policies { get; init => field = value ?? throw new ArgumentNullException(nameof(value)); } = new();

    /// <summary>The response-time windows available by kind.</summary>
    /// <value>The default is the built-in windows.</value>
    public ResponseTimeWindowRegistry Windows { get; init => field = value ?? throw new ArgumentNullException(nameof(value)); } = new();

    /// <summary>The server providers available by kind.</summary>
    /// <value>The default is <c>exec</c>.</value>
    public ServerProviderRegistry Providers { get; init => field = value ?? throw new ArgumentNullException(nameof(value)); } = new();
}
