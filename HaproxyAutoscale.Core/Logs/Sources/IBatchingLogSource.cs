namespace HaproxyAutoscale.Logs;

/// <summary>
/// A source that says when a read's lines have all been delivered, so that the reader may hold them until then and
/// handle them together (<see cref="Scaling.LogLineRouter"/>). The built-in sources are; any other source's lines are
/// handled one at a time.
/// </summary>
internal interface IBatchingLogSource
{
    /// <summary>
    /// As <see cref="ILogSource.RunAsync"/>, and calls <paramref name="onReadEnd"/> after the last line of each read,
    /// before the source waits for more, from the thread that delivers the lines (under the same lock, if any).
    /// </summary>
    Task RunAsync(LogLineHandler onLine, Action onReadEnd, CancellationToken cancellationToken);
}
