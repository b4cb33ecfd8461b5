using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Policies;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>A policy that asks for one more server at every evaluation (or throws, while told to): actions without load.</summary>
internal sealed class AlwaysUpPolicy : IScalingPolicy
{
    public const string Name = "always-up";

    public volatile bool Throwing;

    /// <summary>Configures a rig's backend for this policy (register it with the builder's <c>Policies</c>).</summary>
    public static void Configure(BackendOptions backend)
    {
        backend.Policy.Kind = Name;
        backend.Policy.Settings.Clear();
    }

    public ScalingDecision Decide(ScalingContext context) =>
        Throwing ? throw new InvalidOperationException("policy bug") : ScalingDecision.Up(1, "always up");
}
