using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Configuration;

/// <summary>
/// Everything the autoscaler is configured with: read by <see cref="AutoscaleConfiguration"/> from the JSON file or
/// <c>IConfiguration</c>, or built in code. Either way it must meet <see cref="AutoscaleOptionsValidator"/>'s rules,
/// which <c>AutoscalerBuilder.Build</c> and the host's start check.
/// </summary>
public sealed class AutoscaleOptions
{
    /// <summary>The HAProxy instances to command (the <c>haproxy</c> section).</summary>
    public HaproxyOptions Haproxy { get; } = new();

    /// <summary>Where log lines come from and how far they are trusted (the <c>logs</c> section).</summary>
    public LogOptions Logs { get; } = new();

    /// <summary>How often every backend's policy is evaluated.</summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the real state is read from HAProxy and reconciled.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often HAProxy's own counters (<c>show stat</c>, one command per instance) are read to check that the logs
    /// show the requests HAProxy counts (log coverage) and to see traffic the logs miss.
    /// </summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan CounterInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How parked servers are warmed up before they are enabled.</summary>
    public WarmupOptions Warmup { get; } = new();

    /// <summary>
    /// The directory where the daemon keeps what it learns across restarts (each backend's learned server model and
    /// demand history, one small file per backend, written crash-safe: temporary file, fsync, rename). An absolute
    /// path, created if missing. Under systemd: <c>StateDirectory=haproxy-autoscale</c>, passed as
    /// <c>--state-directory /var/lib/haproxy-autoscale</c>.
    /// </summary>
    /// <value>The default is <see langword="null"/>: nothing is kept, and a restart starts without what was learned.</value>
    public string? StateDirectory { get; set; }

    /// <summary>Active/standby replicas (the <c>ha</c> section); <see langword="null"/>: this autoscaler acts alone.</summary>
    public HighAvailability.HighAvailabilityOptions? HighAvailability { get; set; }

    /// <summary>The autoscaled backends, in configuration order.</summary>
    public IList<BackendOptions> Backends { get; } = [];
}

/// <summary>How a server is warmed up: an HTTP GET to its <c>warmupUrl</c> before HAProxy sends it traffic.</summary>
public sealed class WarmupOptions
{
    /// <summary>Deadline of one attempt (a cold app may take seconds to answer its first request).</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts before the warm-up counts as failed.</summary>
    /// <value>The default is 3.</value>
    public int Attempts { get; set; } = 3;

    /// <summary>Wait before the second attempt; doubled before each further one.</summary>
    /// <value>The default is 1 second.</value>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A server whose warm-up failed is not picked again for this long (doubled on each further failure, up to 10 minutes).</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan FailureBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Accepted answers: statuses from <see cref="MinStatus"/> to <see cref="MaxStatus"/>.</summary>
    /// <value>The default is 200.</value>
    public int MinStatus { get; set; } = 200;

    /// <summary>See <see cref="MinStatus"/>.</summary>
    /// <value>The default is 399 (2xx and 3xx).</value>
    public int MaxStatus { get; set; } = 399;
}

/// <summary>One autoscaled backend.</summary>
public sealed class BackendOptions
{
    /// <summary>The backend's name in HAProxy.</summary>
    public string Name { get; set; } = "";

    /// <summary>The response-time window.</summary>
    public WindowOptions Window { get; set; } = new();

    /// <summary>The policy: its kind and its settings.</summary>
    public PolicyOptions Policy { get; } = new();

    /// <summary>How servers leave.</summary>
    public ScaleDownOptions ScaleDown { get; set; } = new();

    /// <summary>Which parked server goes up, which enabled one goes down.</summary>
    /// <value>The default is <see cref="ServerSelection.Ordered"/>.</value>
    public ServerSelection Selection { get; set; } = ServerSelection.Ordered;

    /// <summary>The servers the autoscaler may act on, in configuration order; any other server is left alone.</summary>
    public IList<ServerOptions> Servers { get; } = [];

    /// <summary>Never fewer active servers than this (at least the <c>alwaysUp</c> ones).</summary>
    public int? MinActive { get; set; }

    /// <summary>Never more active servers than this (at most the configured ones).</summary>
    public int? MaxActive { get; set; }

    /// <summary>A newly enabled server's samples are left out of the window for this long.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan SettleTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How servers are started and stopped (<c>provider</c>); <see langword="null"/>: parked servers keep running, only out of rotation.</summary>
    public Providers.ServerProviderOptions? Provider { get; set; }

    /// <summary>Servers added at run time beyond the configured ones (<c>pool</c>, needs <see cref="Provider"/>); <see langword="null"/>: none.</summary>
    public Providers.ServerPoolOptions? Pool { get; set; }

    /// <summary>The engine's per-direction rules (tolerance, cooldown, stabilization, step, idle before park) applied to every policy's decisions.</summary>
    public ScalingBehaviorOptions Behavior { get; } = new();

    /// <summary>The forecast floor from the backend's demand history (<c>forecast</c>): off, shown only, or on.</summary>
    public Forecasting.ForecastOptions Forecast { get; } = new();

    /// <summary>Scheduled floors: from each cron start, for a while, at least that many servers are kept active.</summary>
    public IList<ScheduledFloorOptions> Schedule { get; } = [];

    /// <summary>The response time the backend's users should get (<c>slo</c>): what a server's learned capacity is measured against.</summary>
    public SloOptions Slo { get; } = new();

    /// <summary>The effective minimum: the larger of <see cref="MinActive"/> and the number of <c>alwaysUp</c> servers.</summary>
    public int EffectiveMinActive => Math.Max(MinActive ?? 0, Servers.Count(s => s.AlwaysUp));

    /// <summary>The effective maximum: <see cref="MaxActive"/> capped by the number of configured servers.</summary>
    public int EffectiveMaxActive => Math.Min(MaxActive ?? int.MaxValue, Servers.Count);
}

/// <summary>A backend's service-level objective: the response time its users should get.</summary>
public sealed class SloOptions
{
    /// <summary>
    /// The 95th percentile of the response time to stay within (<c>slo.p95</c>). A server's capacity is the arrival
    /// rate at which its learned model keeps the p95 under it.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: 200 ms, or twice the learned service time's p95 when that is more. 200 ms
    /// is a common web target; an app whose requests take over 100 ms alone cannot meet it and gets twice its own speed
    /// (queueing may at most double a request's time). Measured on the simulated traces
    /// (<c>results/learned-capacity-comparison.md</c>), twice the p95 alone (about 100 ms there) had fewer seconds over
    /// 200 ms but cost 13 % more server-seconds on the diurnal trace: the laxer default, then.
    /// </value>
    public TimeSpan? P95 { get; set; }
}

/// <summary>One server the autoscaler may act on.</summary>
public sealed class ServerOptions
{
    /// <summary>The server's name in HAProxy.</summary>
    public string Name { get; set; } = "";

    /// <summary>Never scaled down (and brought up at start if parked).</summary>
    public bool AlwaysUp { get; set; }

    /// <summary>An HTTP(S) URL requested before the server is enabled; none = enabled without warm-up.</summary>
    public Uri? WarmupUrl { get; set; }

    /// <summary>The weight set when the server is enabled (1 to 256).</summary>
    /// <value>The default is <see langword="null"/>: the weight haproxy.cfg gives the server (HAProxy's <c>srv_iweight</c>) is restored.</value>
    public int? Weight { get; set; }
}

/// <summary>How servers leave.</summary>
public sealed class ScaleDownOptions
{
    /// <summary>Drain first (let sessions finish), or weight 0 + disable at once.</summary>
    /// <value>The default is <see cref="ScaleDownMode.Drain"/>.</value>
    public ScaleDownMode Mode { get; set; } = ScaleDownMode.Drain;

    /// <summary>The longest wait for a draining server's sessions to reach 0 before maintenance.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>What a blind backend (its logs miss the requests HAProxy counts) may still do. It never scales down.</summary>
public enum BlindFallback
{
    /// <summary>
    /// Decide from HAProxy's own counters: the policy sees <c>rtime</c> (HAProxy's average response time over its last
    /// 1,024 requests) as the window value, and queued requests (<c>qcur</c>) or new connection, response or 5xx
    /// errors as saturation; only scale-ups are carried out.
    /// </summary>
    Stat,

    /// <summary>Hold: no action until the logs are back.</summary>
    Hold,
}

/// <summary>How servers leave.</summary>
public enum ScaleDownMode
{
    /// <summary><c>set server state drain</c>, wait for 0 sessions (or the timeout), then <c>maint</c>.</summary>
    Drain,

    /// <summary><c>set weight 0</c> then <c>disable server</c>: no wait for sessions in flight.</summary>
    Immediate,
}

/// <summary>Which server moves.</summary>
public enum ServerSelection
{
    /// <summary>The first parked server in configuration order goes up, the last enabled one goes down.</summary>
    Ordered,

    /// <summary>A random one among the candidates.</summary>
    Random,

    /// <summary>
    /// Configuration order up; down, the server with the fewest current sessions (HAProxy's <c>scur</c>, read with the
    /// counters), so the fewest requests are cut or waited for (<c>least-sessions</c>).
    /// </summary>
    LeastSessions,

    /// <summary>Configuration order up; down, the server enabled last (last in, first out) (<c>newest</c>).</summary>
    Newest,
}
