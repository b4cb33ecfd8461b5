namespace HaproxyAutoscale.Policies;

/// <summary>
/// Implemented by a policy that judges a backend against one response time: the window value above which the backend
/// counts as slow. Summaries (such as <c>replay</c>'s time above objective) read it from the policy, so they follow
/// the policy's own setting and default. The built-in policies implement it: <c>threshold</c> with
/// <see cref="ThresholdPolicyOptions.ThresholdMs"/>, <c>band</c> with <see cref="BandPolicyOptions.UpperMs"/>,
/// <c>target</c> with <see cref="TargetPolicyOptions.TargetMs"/>. A custom policy may implement it too.
/// </summary>
public interface ILatencyObjective
{
    /// <summary>The window value, in milliseconds, above which the backend counts as slow.</summary>
    double ObjectiveMs { get; }
}
