namespace HaproxyAutoscale.Control;

/// <summary>
/// Sends commands to HAProxy's Runtime API. Implementations decide how commands travel (a UNIX or TCP stats socket,
/// several HAProxy instances); typed commands are extension methods in <see cref="HaproxyControlExtensions"/>.
/// </summary>
public interface IHaproxyControl : IAsyncDisposable
{
    /// <summary>Where commands go, for messages.</summary>
    string Endpoint { get; }

    /// <summary>
    /// Runs one command and returns HAProxy's answer without its terminating empty line. An error answer throws
    /// <see cref="HaproxyControlException"/>. The command must be a single line with no <c>;</c> separator.
    /// </summary>
    Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs several commands in one round trip (<c>;</c>-separated) and returns one result per command, in order;
    /// a failed command does not stop the ones after it.
    /// </summary>
    Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default);
}

/// <summary>The outcome of one command of a batch: its answer, or the error HAProxy gave.</summary>
/// <param name="Command">The command.</param>
/// <param name="Answer">HAProxy's answer (the error text for a failure).</param>
/// <param name="Error">The error, or <see langword="null"/> on success.</param>
public sealed record CommandResult(string Command, string Answer, HaproxyControlException? Error)
{
    /// <summary>Whether the command succeeded.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>Administrative state of a server, as <c>set server b/s state</c> takes it.</summary>
public enum ServerAdminState
{
    /// <summary>Takes traffic (<c>enable server</c>).</summary>
    Ready,

    /// <summary>Takes no new traffic but keeps health checks and persistent sessions.</summary>
    Drain,

    /// <summary>Maintenance: no traffic, no health checks (<c>disable server</c>).</summary>
    Maint,
}

/// <summary>Options of the socket control.</summary>
public sealed class HaproxyControlOptions
{
    /// <summary>The longest wait for the connection to be established.</summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest wait for a whole exchange: connect, send, and read the complete answer.</summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether to keep one interactive (<c>prompt</c>) session open and send every command through it, instead of one
    /// connection per exchange. A session closed by HAProxy (idle <c>stats timeout</c>, reload) is reopened.
    /// </summary>
    /// <value>The default is <see langword="true"/>: measured 2.4 to 4.5 times faster per command on loopback (HaproxyAutoscale.Benchmarks/results/ControlBenchmarks.md).</value>
    public bool Persistent { get; set; } = true;
}
