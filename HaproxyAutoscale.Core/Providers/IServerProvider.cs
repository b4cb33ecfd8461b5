namespace HaproxyAutoscale.Providers;

/// <summary>
/// Starts and stops the capacity behind HAProxy servers: a systemd unit, a container, a cloud instance. The
/// autoscaler starts a server before it warms it up and enables it, and stops it once it was parked longer than
/// <see cref="ServerProviderOptions.KeepWarm"/>. Plugged in per backend by name (<c>"provider": {"kind": "exec", …}</c>,
/// see <see cref="ServerProviderRegistry"/>). Every call gets a cancellation token that carries the deadline
/// (<see cref="ServerProviderOptions.Timeout"/>); failures are reported as <see cref="ServerProviderException"/>.
/// </summary>
public interface IServerProvider
{
    /// <summary>
    /// Starts the server's capacity (idempotent: starting a running server succeeds) and returns once it runs. The
    /// result may carry the address it listens on (<c>ADDRESS:PORT</c>), which servers added at run time need.
    /// </summary>
    Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken);

    /// <summary>Stops the server's capacity (idempotent: stopping a stopped server succeeds).</summary>
    Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the server's capacity runs now; asked at start-up (beside the engine, a few servers at a time) to adopt
    /// what already runs, so it is kept warm and then stopped. A scale-up before the answer starts the server.
    /// </summary>
    Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken);
}

/// <summary>The server a provider acts on.</summary>
/// <param name="Backend">The backend's name in HAProxy.</param>
/// <param name="Server">The server's name in HAProxy (a configured server, or a pool slot such as <c>auto3</c>).</param>
public sealed record ServerProviderTarget(string Backend, string Server);

/// <summary>What a start returned.</summary>
/// <param name="Address">Where the started server listens, <c>ADDRESS:PORT</c>, or <see langword="null"/> when the provider does not say.</param>
public sealed record ServerStartResult(string? Address);

/// <summary>Whether a server's capacity runs, as its provider reports it.</summary>
public enum ServerRunState
{
    /// <summary>The provider cannot tell (no status command, or an answer it does not know): treated as possibly running.</summary>
    Unknown,

    /// <summary>Running.</summary>
    Running,

    /// <summary>Stopped.</summary>
    Stopped,
}

/// <summary>What went wrong in a provider call.</summary>
public enum ServerProviderErrorKind
{
    /// <summary>The start, stop or status failed (a command exited with an error, an API refused).</summary>
    Failed,

    /// <summary>The call did not complete before its deadline (what it started was killed).</summary>
    Timeout,

    /// <summary>The program to run does not exist or cannot be run.</summary>
    NotFound,

    /// <summary>A name or setting cannot be used (nothing was run).</summary>
    InvalidArgument,

    /// <summary>The provider answered something that cannot be used (an address that is not <c>ADDRESS:PORT</c>).</summary>
    InvalidOutput,

    /// <summary>Not run: this replica is a standby of an active/standby pair (only the leader starts and stops capacity).</summary>
    NotLeader,
}

/// <summary>A provider call failed; the message names the backend, server, operation and what happened.</summary>
public sealed class ServerProviderException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServerProviderException(ServerProviderErrorKind kind, ServerProviderTarget target, string operation, string detail, Exception? innerException = null)
        : base($"{target?.Backend}/{target?.Server}: {operation}: {detail}", innerException)
    {
        Kind = kind;
        Target = target ?? throw new ArgumentNullException(nameof(target));
        Operation = operation;
        Detail = detail;
    }

    /// <summary>What went wrong.</summary>
    public ServerProviderErrorKind Kind { get; }

    /// <summary>The server.</summary>
    public ServerProviderTarget Target { get; }

    /// <summary>The operation: <c>start</c>, <c>stop</c> or <c>status</c>.</summary>
    public string Operation { get; }

    /// <summary>What happened, without the server and operation.</summary>
    public string Detail { get; }
}
