using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Simulation;

/// <summary>How HAProxy picks a server among those in rotation (<c>balance</c>).</summary>
internal enum SimulatedBalance
{
    /// <summary><c>balance roundrobin</c>, HAProxy's default.</summary>
    RoundRobin,

    /// <summary><c>balance leastconn</c>: the server with the fewest connections.</summary>
    LeastConn,
}

/// <summary>What a simulation runs and reports.</summary>
internal sealed class SimulationOptions
{
    /// <summary>The latency objective: a request slower than this is over the SLO, a second whose p95 is above it a violation.</summary>
    /// <value>The default is 200 ms.</value>
    public TimeSpan Slo { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Run this many servers always on instead of the policy (a baseline); <see langword="null"/> runs the policy.</summary>
    public int? StaticServers { get; set; }

    /// <summary>How requests are spread over the servers in rotation.</summary>
    /// <value>The default is <see cref="SimulatedBalance.RoundRobin"/>.</value>
    public SimulatedBalance Balance { get; set; } = SimulatedBalance.RoundRobin;

    /// <summary>
    /// HAProxy's <c>timeout queue</c> (which defaults to <c>timeout connect</c>): a request that waited this long in
    /// the backend's queue gets a 503. <see langword="null"/>: requests wait as long as it takes.
    /// </summary>
    public TimeSpan? QueueTimeout { get; set; }

    /// <summary>
    /// The Lua hold's deadline for a backend that may go to zero (<see cref="SimulatedHold.Applies"/>): a request held
    /// this long without a usable server is answered 503.
    /// </summary>
    /// <value>The default is 30 s, the script's.</value>
    public TimeSpan HoldDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the provider takes to start a stopped server of a backend that may go to zero (before its warm-up):
    /// a server of a backend with a provider is stopped once parked for <c>keepWarm</c>, and at the start.
    /// </summary>
    /// <value>The default is zero.</value>
    public TimeSpan ProviderStart { get; set; }

    /// <summary>The seed of the service-time draws: the same seed, log and configuration give the same result.</summary>
    public int Seed { get; set; }

    /// <summary>
    /// When the first evaluation comes after the first arrival (0 up to the evaluation interval; more counts as the
    /// interval): a live daemon's evaluation clock started before the load, at no particular phase of it, and the
    /// decisions at a load's start depend on it. <see langword="null"/>: one interval after.
    /// </summary>
    public TimeSpan? EvaluationPhase { get; set; }

    /// <summary>Whether to keep one <see cref="SimulationSecond"/> per second of the log, and the decisions that moved servers.</summary>
    public bool KeepTimeline { get; set; }
}

/// <summary>One of SPEC RG's elasticity metrics for one direction (Herbst et al. 2015): how far and how long supply missed demand.</summary>
/// <param name="Accuracy">Mean over the seconds of the shortfall (or excess) relative to the oracle's servers, e.g. 0.25 = a quarter too few on average.</param>
/// <param name="Timeshare">Fraction of the seconds with too few (or too many) servers.</param>
internal sealed record ProvisioningMetric(double Accuracy, double Timeshare);

/// <summary>One second of a simulation.</summary>
/// <param name="Time">The second's start.</param>
/// <param name="Arrivals">Requests that arrived in it.</param>
/// <param name="Active">Servers active or warming at its end.</param>
/// <param name="Oracle">The fewest servers that keep the model under the SLO for its arrivals.</param>
/// <param name="P95Ms">The 95th percentile of the requests that completed in it, or <see langword="null"/>.</param>
internal sealed record SimulationSecond(DateTimeOffset Time, int Arrivals, int Active, int Oracle, int? P95Ms);

/// <summary>What a policy (or a static count of servers) would have done to one backend's latency and cost.</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Policy">The policy's name, or <c>static N</c>.</param>
/// <param name="Requests">Requests simulated (the log's, for this backend).</param>
/// <param name="SloMs">The SLO.</param>
/// <param name="P50Ms">Median latency (queue + response), or <see langword="null"/> without requests.</param>
/// <param name="P95Ms">95th percentile.</param>
/// <param name="P99Ms">99th percentile.</param>
/// <param name="RequestsOverSlo">Fraction of the requests slower than the SLO (a request no server took counts).</param>
/// <param name="ViolationSeconds">Seconds whose p95 was above the SLO.</param>
/// <param name="ServerSeconds">The integral of active and warming servers over time.</param>
/// <param name="OracleServerSeconds">The integral of the oracle's servers.</param>
/// <param name="Flaps">Reversals within 5 minutes: a server enabled then drained, or drained then enabled.</param>
/// <param name="UserColdStarts">Requests that reached a cold server (no warm-up paid it).</param>
/// <param name="UnderProvisioning">Too few servers against the oracle.</param>
/// <param name="OverProvisioning">Too many servers against the oracle.</param>
/// <param name="Instability">Fraction of seconds where supply and the oracle moved in different directions (Ilyushkin et al. 2017).</param>
internal sealed record BackendSimulation(
    string Backend,
    string Policy,
    long Requests,
    double SloMs,
    int? P50Ms,
    int? P95Ms,
    int? P99Ms,
    double RequestsOverSlo,
    long ViolationSeconds,
    double ServerSeconds,
    double OracleServerSeconds,
    int Flaps,
    long UserColdStarts,
    ProvisioningMetric UnderProvisioning,
    ProvisioningMetric OverProvisioning,
    double Instability)
{
    /// <summary>One row per second when <see cref="SimulationOptions.KeepTimeline"/> is set; otherwise empty.</summary>
    public IReadOnlyList<SimulationSecond> Timeline { get; init; } = [];

    /// <summary>Every evaluation that moved servers (its time and plan) when <see cref="SimulationOptions.KeepTimeline"/> is set; otherwise empty.</summary>
    public IReadOnlyList<ScalingPlan> Decisions { get; init; } = [];

    /// <summary>
    /// Evaluations at which a rule of the engine held back the policy's decision, per gate (<c>cooldown</c>,
    /// <c>stabilization</c>, <c>tolerance</c>, <c>bounds</c>, <c>minIdle</c>, <c>selection</c>…); empty when none did.
    /// </summary>
    public IReadOnlyDictionary<string, int> HeldBy { get; init; } = new Dictionary<string, int>();

    /// <summary>What scale to zero did, for a backend that may go to zero (<see cref="SimulatedHold.Applies"/>); otherwise <see langword="null"/>.</summary>
    public ZeroSimulation? ScaleToZero { get; init; }
}

/// <summary>What scale to zero did to one backend: requests held by HAProxy's Lua hold while it had no usable server.</summary>
/// <param name="Held">Requests held (served after waiting, or answered 503 past the deadline).</param>
/// <param name="HeldP50Ms">Median wait of the held requests that went on to a server (their latency includes it), or <see langword="null"/>.</param>
/// <param name="HeldP95Ms">95th percentile of that wait.</param>
/// <param name="HeldMaxMs">The longest such wait.</param>
/// <param name="PastDeadline">Held requests answered 503 at the deadline (they count in the latency figures as failed requests).</param>
/// <param name="Wakes">Wakes: from the first wake line that found the backend at zero to a server usable (or the end).</param>
/// <param name="WakeToReadyP50Ms">Median time from such a wake line to the first usable server, or <see langword="null"/>.</param>
/// <param name="ZeroSeconds">Seconds with no server active or warming: what a floor of one server would have cost more.</param>
internal sealed record ZeroSimulation(long Held, int? HeldP50Ms, int? HeldP95Ms, int? HeldMaxMs, long PastDeadline, long Wakes, int? WakeToReadyP50Ms, double ZeroSeconds);
