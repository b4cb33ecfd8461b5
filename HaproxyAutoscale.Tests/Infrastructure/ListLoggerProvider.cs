using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>Keeps every formatted log message, to assert on what the engine reported.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, int EventId, string Message)> _entries = new();

    public IReadOnlyCollection<(LogLevel Level, int EventId, string Message)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new ListLogger(_entries);

    public void Dispose()
    {
    }

    private sealed class ListLogger(ConcurrentQueue<(LogLevel, int, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue((logLevel, eventId.Id, formatter(state, exception)));
    }
}
