namespace HaproxyAutoscale.Policies;

/// <summary>A policy that holds the backend to a latency: replay and reports count the time spent above it.</summary>
public interface ILatencyObjective
{
    /// <summary>The window value (ms) above which the backend counts as slow.</summary>
    double ObjectiveMs { get; }
}
