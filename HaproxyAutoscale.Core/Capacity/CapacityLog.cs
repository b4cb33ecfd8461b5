using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Capacity;

/// <summary>The learned capacity's log events.</summary>
internal static partial class CapacityLog
{
    [LoggerMessage(AutoscaleEventIds.CapacityLearned, LogLevel.Information,
        "{Backend}: capacity learned: {Workers} workers per server, service time {ServiceMs} ms (p95 {ServiceP95Ms} ms): {PerServer} req/s per server within p95 {SloMs} ms ({Basis})")]
    public static partial void Learned(ILogger logger, string backend, string workers, string serviceMs, string serviceP95Ms, string perServer, string sloMs, string basis);

    [LoggerMessage(AutoscaleEventIds.CapacityDrift, LogLevel.Information, "{Backend}: the {Drift}; the learned capacity starts again from the requests since")]
    public static partial void Drift(ILogger logger, string backend, string drift);

    [LoggerMessage(AutoscaleEventIds.CapacityRestored, LogLevel.Information, "{Backend}: learned capacity read from {Path}: {Basis}")]
    public static partial void Restored(ILogger logger, string backend, string path, string basis);

    [LoggerMessage(AutoscaleEventIds.CapacityRestored, LogLevel.Warning, "{Backend}: learned capacity not read from {Path} ({Problem}): learning from scratch")]
    public static partial void NotRestored(ILogger logger, string backend, string path, string problem);

    [LoggerMessage(AutoscaleEventIds.CapacitySaveFailed, LogLevel.Warning, "{Backend}: writing the learned capacity to {Path} failed: {Error}")]
    public static partial void SaveFailed(ILogger logger, string backend, string path, string error);
}
