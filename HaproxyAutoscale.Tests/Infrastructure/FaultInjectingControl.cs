using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Tests.Infrastructure;

/// <summary>
/// A real control with faults injected: before a command goes to HAProxy, <see cref="Fault"/> may return an
/// exception to throw instead (a timeout, a custom control's bug). Everything else reaches the real HAProxy.
/// </summary>
internal sealed class FaultInjectingControl(IHaproxyControl inner) : IHaproxyControl
{
    /// <summary>Called with each command; a non-null result is thrown instead of sending it.</summary>
    public Func<string, Exception?> Fault { get; set; } = _ => null;

    public string Endpoint => inner.Endpoint;

    public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default) =>
        Fault(command) is { } fault ? Task.FromException<string>(fault) : inner.ExecuteAsync(command, cancellationToken);

    public Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default) =>
        inner.ExecuteBatchAsync(commands, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    /// <summary>A fault that fires once for the first command matching <paramref name="match"/>.</summary>
    public static Func<string, Exception?> Once(Func<string, bool> match, Func<string, Exception> fault)
    {
        int fired = 0;
        return command => match(command) && Interlocked.Exchange(ref fired, 1) == 0 ? fault(command) : null;
    }
}
