using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Lab.Fidelity;

/// <summary>Keeps the autoscaler's events (when, id and message) from <paramref name="minimum"/> up, for a live run's figures.</summary>
public sealed class EventCapture(LogLevel minimum = LogLevel.Information) : ILoggerFactory, ILogger
{
    private readonly List<(DateTimeOffset Time, int Id, string Message)> _events = [];

    /// <summary>The events so far, in order.</summary>
    public IReadOnlyList<(DateTimeOffset Time, int Id, string Message)> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public int Count(int id, string contains)
    {
        lock (_events)
        {
            return _events.Count(e => e.Id == id && e.Message.Contains(contains, StringComparison.Ordinal));
        }
    }

    public string Summary()
    {
        lock (_events)
        {
            return string.Join(", ", _events.GroupBy(e => e.Id).OrderBy(g => g.Key).Select(g => $"event {g.Key}×{g.Count()}"));
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            lock (_events)
            {
                _events.Add((DateTimeOffset.UtcNow, eventId.Id, formatter(state, exception)));
            }
        }
    }
}
