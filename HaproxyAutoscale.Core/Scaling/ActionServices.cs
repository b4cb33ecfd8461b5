using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// What every action on a server shares: time, the log, the metrics, the failure back-off, the actions in flight,
/// and the containment of an extension's exception.
/// </summary>
internal sealed class ActionServices(TimeProvider time, ILogger logger, AutoscaleMetrics metrics, TimeSpan failureBackoff)
{
    private readonly ConcurrentDictionary<Task, byte> _inFlight = new();

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    public AutoscaleMetrics Metrics { get; } = metrics;

    /// <summary>The first back-off after a failed action (<c>warmup.failureBackoff</c>), doubled on each further failure.</summary>
    public TimeSpan FailureBackoff { get; } = failureBackoff;

    /// <summary>Keeps an action started on its own task until it ends.</summary>
    public void Track(Task action)
    {
        _inFlight.TryAdd(action, 0);
        _ = action.ContinueWith(t => _inFlight.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Completes when every action started so far has ended.</summary>
    public Task WhenIdleAsync() => Task.WhenAll(_inFlight.Keys);

    /// <summary>An extension's exception, logged with backend and server and counted; returns it as a failure's text.</summary>
    public string Contained(string backend, string server, string extension, Exception e)
    {
        string error = $"{e.GetType().Name}: {e.Message}";
        Log.ExtensionFailed(Logger, backend, server, extension, error);
        Metrics.ExtensionFailures.Add(1, AutoscaleMetrics.ExtensionTags(backend, extension));
        return error;
    }
}
