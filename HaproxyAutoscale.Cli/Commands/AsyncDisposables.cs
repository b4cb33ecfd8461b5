namespace HaproxyAutoscale.Cli.Commands;

/// <summary>Disposes each item in turn: the controls a command opened, one <c>await using</c> for all.</summary>
internal sealed class AsyncDisposables(IEnumerable<IAsyncDisposable> items) : IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable item in items)
        {
            await item.DisposeAsync().ConfigureAwait(false);
        }
    }
}
