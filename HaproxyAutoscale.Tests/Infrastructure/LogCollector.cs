using System.Collections.Concurrent;
using System.Net;
using System.Text;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>Runs a real <see cref="ILogSource"/> in the background and keeps every line it delivers.</summary>
internal sealed class LogCollector : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly Task _run;

    public LogCollector(ILogSource source)
    {
        Source = source;
        _run = Task.Run(() => source.RunAsync(line => _lines.Enqueue(Encoding.UTF8.GetString(line)), _stop.Token));
    }

    public ILogSource Source { get; }

    public IReadOnlyCollection<string> Lines => _lines;

    public static LogCollector Udp() => new(LogSources.FromDatagrams(new IPEndPoint(IPAddress.Loopback, 0)));

    public int Port => ((IPEndPoint)((DatagramLogSource)Source).LocalEndPoint).Port;

    public Task WaitForAsync(Func<IReadOnlyCollection<string>, bool> condition, string what) =>
        Poll.UntilAsync(() => condition(_lines), TimeSpan.FromSeconds(10), what);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run;
        await Source.DisposeAsync();
        _stop.Dispose();
    }
}
