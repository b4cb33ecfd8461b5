namespace HaproxyAutoscale.Scaling;

/// <summary>
/// What a server is to the scaling decisions, derived from its <see cref="ServerLifecycleState"/>: starting and
/// warming servers are warming (capacity), stopped, parked and stopping ones are parked.
/// </summary>
public enum ServerRole
{
    /// <summary>In maintenance, available to scale up.</summary>
    Parked,

    /// <summary>Being warmed up before it is enabled; counts as capacity.</summary>
    Warming,

    /// <summary>Taking traffic.</summary>
    Active,

    /// <summary>Draining on its way to maintenance.</summary>
    Draining,

    /// <summary>Put in maintenance by someone else: left alone and reported.</summary>
    HeldByOperator,
}

/// <summary>
/// Where a server is in its life: <c>stopped → starting → warming → active → draining → parked (warm) → stopping →
/// stopped</c>. Without a provider a server is only ever warming, active, draining or parked (its process is not the
/// autoscaler's); with one, a parked server keeps running for <c>keepWarm</c>, then it is stopped.
/// </summary>
public enum ServerLifecycleState
{
    /// <summary>Not running (a pool slot: not in HAProxy either); a scale-up starts it first.</summary>
    Stopped,

    /// <summary>Being started through its provider.</summary>
    Starting,

    /// <summary>Running, being warmed up before it is enabled.</summary>
    Warming,

    /// <summary>Taking traffic.</summary>
    Active,

    /// <summary>Draining on its way to maintenance.</summary>
    Draining,

    /// <summary>In maintenance and, with a provider, still running (kept warm): a scale-up enables it without a start.</summary>
    Parked,

    /// <summary>Being stopped through its provider after it was kept warm.</summary>
    Stopping,

    /// <summary>Put in maintenance by someone else: left alone and reported.</summary>
    HeldByOperator,
}

/// <summary>The one mapping from a server's lifecycle state to its role.</summary>
internal static class ServerStates
{
    public static ServerRole RoleOf(ServerLifecycleState state) => state switch
    {
        ServerLifecycleState.Starting or ServerLifecycleState.Warming => ServerRole.Warming,
        ServerLifecycleState.Active => ServerRole.Active,
        ServerLifecycleState.Draining => ServerRole.Draining,
        ServerLifecycleState.HeldByOperator => ServerRole.HeldByOperator,
        _ => ServerRole.Parked, // stopped, parked, stopping
    };

    /// <summary>The state's name in output (<c>held-by-operator</c>, else lower case).</summary>
    public static string Name(ServerLifecycleState state) => state == ServerLifecycleState.HeldByOperator ? "held-by-operator" : state.ToString().ToLowerInvariant();
}
