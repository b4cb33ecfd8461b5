namespace HaproxyAutoscale.Lab.Soak;

/// <summary>How the daemon receives its logs in a soak.</summary>
public enum SoakMode
{
    /// <summary>Two HAProxy instances forward through TCP rings into one <c>tcp@</c> source.</summary>
    Tcp,

    /// <summary>The daemon follows a file the rig writes (as a syslog daemon would) and logrotate rotates.</summary>
    File,
}

/// <summary>
/// A soak's length, load and fault schedule. The defaults are the hour-long benchmark's; the test variant scales
/// the intervals down (<see cref="Short"/>).
/// </summary>
public sealed class SoakOptions
{
    /// <summary>Where samples.csv, soak.svg, summary.txt and the daemon's log are written.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>How to run the CLI: <c>["dotnet", ".../haproxy-autoscale.dll"]</c> or the Native AOT binary alone.</summary>
    public required IReadOnlyList<string> Daemon { get; init; }

    public SoakMode Mode { get; init; } = SoakMode.Tcp;

    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Synthetic httplog lines per second over both HAProxy instances (or into the file).</summary>
    public int LinesPerSecond { get; init; } = 20_000;

    /// <summary>Each HAProxy is reloaded (SIGUSR2 to its master) this often; the two are half a period apart.</summary>
    public TimeSpan HaproxyReloadEvery { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The admin sockets become unreachable (the relays close) this often, for <see cref="AdminOutage"/>.</summary>
    public TimeSpan AdminOutageEvery { get; init; } = TimeSpan.FromMinutes(5);

    public TimeSpan AdminOutage { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The daemon is sent SIGHUP (with a changed configuration) this often.</summary>
    public TimeSpan DaemonReloadEvery { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>File mode: logrotate runs this often, alternating rename+create and copytruncate.</summary>
    public TimeSpan RotateEvery { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan SampleEvery { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The real HTTP load alternates high and low halves of this period (scale up, scale down).</summary>
    public TimeSpan LoadCycle { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>Concurrent clients per HAProxy in the high half (one in the low half).</summary>
    public int HighClients { get; init; } = 3;

    /// <summary>The provider's start fails once in this many starts (after launching the app: the failure leaves a process for the daemon to stop).</summary>
    public int ProviderFailsOneIn { get; init; } = 5;

    public TimeSpan KeepWarm { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The band policy's stabilization (below its lower bound this long before a server goes) and scale-down cooldown.</summary>
    public TimeSpan ScaleDownAfter { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Samples before this are left out of the slopes (start-up, JIT, pools filling).</summary>
    public TimeSpan WarmUp { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A soak of <paramref name="duration"/> for the test suite: the same faults on a compressed schedule (HAProxy
    /// reload every 10 s, admin outage 5 s every 15 s, daemon reload every 15 s, rotation every 10 s, samples every 2 s).
    /// </summary>
    public static SoakOptions Short(string outputDirectory, IReadOnlyList<string> daemon, SoakMode mode, TimeSpan duration) => new()
    {
        OutputDirectory = outputDirectory,
        Daemon = daemon,
        Mode = mode,
        Duration = duration,
        LinesPerSecond = 2_000,
        HaproxyReloadEvery = TimeSpan.FromSeconds(10),
        AdminOutageEvery = TimeSpan.FromSeconds(15),
        AdminOutage = TimeSpan.FromSeconds(5),
        DaemonReloadEvery = TimeSpan.FromSeconds(15),
        RotateEvery = TimeSpan.FromSeconds(10),
        SampleEvery = TimeSpan.FromSeconds(2),
        LoadCycle = TimeSpan.FromSeconds(20),
        HighClients = 2,
        KeepWarm = TimeSpan.FromSeconds(3),
        ScaleDownAfter = TimeSpan.FromSeconds(3),
        EvaluationInterval = TimeSpan.FromMilliseconds(250),
        ReconcileInterval = TimeSpan.FromSeconds(1),
        WarmUp = TimeSpan.FromSeconds(22), // past the first admin outage: its first exception loads a few assemblies and a pdb (one-time fds)
    };
}
