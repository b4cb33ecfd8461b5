using System.Globalization;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Policies;

/// <summary>
/// Options of the <c>concurrency</c> policy (as Knative's autoscaler: requests in flight per server, a stable and a
/// panic window). A setting left out of the configuration keeps the default here. Rules, for configuration and for
/// <see cref="ScalingPolicies.Concurrency"/> alike: <see cref="TargetInFlight"/> more than 0, the panic window
/// shorter than the stable one, <see cref="PanicThreshold"/> more than 1, durations not negative.
/// </summary>
public sealed class ConcurrencyPolicyOptions
{
    /// <summary>
    /// Requests in flight (serving or queued) per server to aim for. Set it to about 70 % of what one server serves at
    /// full speed (<c>simulate --fit</c> prints it as <c>workers</c>).
    /// </summary>
    /// <value>The default is 4.</value>
    public double TargetInFlight { get; set; } = 4;

    /// <summary>
    /// Size bursts by the backend's learned capacity too, while it is confident: the panic window asks for at least
    /// its arrivals per second ÷ the requests per second one server takes within the SLO (<c>slo.p95</c>). The stable
    /// window stays in-flight ÷ <see cref="TargetInFlight"/>. The setting <c>sizing</c>: <c>learned</c> or <c>in-flight</c>.
    /// </summary>
    /// <value>The default is <see langword="true"/>; <see langword="false"/> when the configuration sets <c>targetInFlight</c> (an explicit target overrides).</value>
    public bool LearnedSizing { get; set; } = true;

    /// <summary>The desired count is the mean in-flight of this period ÷ the target.</summary>
    /// <value>The default is 60 seconds, as Knative.</value>
    public TimeSpan StableWindow { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The short window that detects bursts.</summary>
    /// <value>The default is 6 seconds, as Knative.</value>
    public TimeSpan PanicWindow { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// The panic window asking for this many times the active servers starts panic: scale up to its count at once,
    /// and no scale-down until a stable window passed without such a burst.
    /// </summary>
    /// <value>The default is 2.0, as Knative.</value>
    public double PanicThreshold { get; set; } = 2.0;

    /// <summary>Scale down only to the highest desired count of this period.</summary>
    /// <value>The default is 300 seconds, as the Kubernetes HPA (measured: shorter periods flap on a noisy day).</value>
    public TimeSpan ScaleDownStabilization { get; set; } = TimeSpan.FromSeconds(300);

    /// <summary>Without any request for this long, one server goes; the next idle period takes the next one. Zero turns it off.</summary>
    /// <value>The default is 5 minutes, as the <c>threshold</c> policy.</value>
    public TimeSpan IdleScaleDown { get; set; } = TimeSpan.FromMinutes(5);

    // The rules, the same for settings read from configuration and for options built in code.
    internal void Validate(Action<string, string> addError)
    {
        if (!(TargetInFlight > 0) || !double.IsFinite(TargetInFlight))
        {
            addError("targetInFlight", "must be a number of requests more than 0");
        }

        if (StableWindow <= TimeSpan.Zero)
        {
            addError("stableWindow", "must be more than 0");
        }

        if (PanicWindow <= TimeSpan.Zero || PanicWindow > StableWindow)
        {
            addError("panicWindow", "must be more than 0 and at most the stableWindow");
        }

        if (!(PanicThreshold > 1) || !double.IsFinite(PanicThreshold))
        {
            addError("panicThreshold", "must be a number more than 1");
        }

        PolicyRules.NotNegative("scaleDownStabilization", ScaleDownStabilization, addError);
        PolicyRules.NotNegative("idleScaleDown", IdleScaleDown, addError);
    }
}

/// <summary>
/// Scales on requests in flight, as Knative: desired = ceil(mean in-flight of the stable window ÷
/// <see cref="ConcurrencyPolicyOptions.TargetInFlight"/>); a burst is sized by the panic window's in-flight and, with a
/// confident learned capacity, by its arrivals per second ÷ the requests per second one server takes within the SLO; when the panic window asks for at least
/// <see cref="ConcurrencyPolicyOptions.PanicThreshold"/> × the active servers, up at once to the panic count and no
/// scale-down while panicking; scale-down to the highest desired count of the stabilization period. In-flight is the
/// engine's <see cref="ScalingContext.InFlight"/> (Little's law on the logged requests, queued time included, so a
/// queue asks for servers in proportion). Warming servers count as capacity. Evaluations in which no request ended do
/// not vote; without requests, the idle rule takes servers away one idle period at a time.
/// </summary>
internal sealed class ConcurrencyPolicy : IScalingPolicy
{
    private readonly ConcurrencyPolicyOptions _options;
    private readonly IdleRule _idle;
    // Times as UTC ticks: 24 bytes a sample instead of 32 (a DateTimeOffset is 16); at 10,000 busy backends a full
    // stable window's samples hold ~15 MB.
    private readonly InFlightSamples _samples = new();
    private readonly RecentMaximum _recommendations = new();
    private WindowReason? _stableReason, _panicReason; // the reasons' fixed parts, formatted once for the options
    private DateTimeOffset _panicUntil = DateTimeOffset.MinValue;
    private int _panicHigh;

    public ConcurrencyPolicy(ConcurrencyPolicyOptions options) => (_options, _idle) = (options, new IdleRule(options.IdleScaleDown));

    /// <summary>Requests in flight per server it aims for: a wake from zero is sized by it, as a panic is.</summary>
    public double TargetInFlight => _options.TargetInFlight;

    // Defaults come from the options class: a setting left out keeps it.
    public static IScalingPolicy Create(PolicySettings settings)
    {
        var options = new ConcurrencyPolicyOptions();
        bool targetSet = settings.GetString("targetInFlight", "").Length > 0;
        options.TargetInFlight = settings.GetNumber("targetInFlight", options.TargetInFlight);
        string sizing = settings.GetString("sizing", targetSet ? "in-flight" : "learned");
        if (sizing is not ("learned" or "in-flight"))
        {
            settings.AddError("sizing", $"'{sizing}' is not learned or in-flight");
        }

        options.LearnedSizing = sizing == "learned";
        options.StableWindow = settings.GetDuration("stableWindow", options.StableWindow);
        options.PanicWindow = settings.GetDuration("panicWindow", options.PanicWindow);
        options.PanicThreshold = settings.GetNumber("panicThreshold", options.PanicThreshold);
        options.ScaleDownStabilization = settings.GetDuration("scaleDownStabilization", options.ScaleDownStabilization);
        options.IdleScaleDown = settings.GetDuration("idleScaleDown", options.IdleScaleDown);
        options.Validate(settings.AddError);
        return new ConcurrencyPolicy(options);
    }

    public ScalingDecision Decide(ScalingContext context)
    {
        if (_idle.Decide(context) is { } idle)
        {
            return idle;
        }

        DateTimeOffset now = context.Now;
        int active = context.ActiveServers;
        if (context.InFlight is not { } inFlight)
        {
            // No request ended: no data (not zero). Only <NOSRV> answers: no server at all, one is needed.
            return context.Saturated && active == 0
                ? ScalingDecision.Up(1, "saturated (<NOSRV>): no server in rotation")
                : ScalingDecision.Hold("no request ended since the last evaluation");
        }

        _samples.Add(now.UtcTicks, inFlight, context.ArrivalRate, _options.StableWindow);

        // Stable: in-flight ÷ targetInFlight. A burst (the panic window) is sized by the larger of that and, with a
        // confident learned model, arrivals ÷ what one server takes within the SLO: arrivals show a step as soon as
        // its requests end, while in-flight first waits for them to queue. (Sizing the stable window by arrivals too,
        // measured again after the workers' rounding fix: 3,881 server-seconds instead of 3,378 on the diurnal trace for
        // the same 15 s over the SLO, the same on step, spike and noisy: not adopted. learned-capacity-comparison.md.)
        double? perServer = _options.LearnedSizing && context.Capacity is { Confident: true, PerServerAtSlo: > 0 } learned ? learned.PerServerAtSlo : null;
        (double stable, double panic, double arrivals) = _samples.Means((now - _options.StableWindow).UtcTicks, (now - _options.PanicWindow).UtcTicks);
        double panicArrivals = perServer is null ? 0 : arrivals;
        int desiredStable = Servers(stable, null);
        int byArrivals = perServer is { } rate ? Servers(panicArrivals, rate) : 0;
        // A queue's demand (servers to take every queued request at the serving ones' concurrency) is a burst too:
        // completed requests show the queue late, their queued time only when they end.
        int desiredPanic = Math.Max(Math.Max(Servers(panic, null), byArrivals), context.DemandServers ?? 0);
        int desired;
        string? learnedWhy = null; // what a panic sized by the learned model adds to its reason
        bool panicking = false;
        if (desiredPanic >= _options.PanicThreshold * Math.Max(active, 1) && desiredPanic > active)
        {
            _panicUntil = now + _options.StableWindow;
            _panicHigh = Math.Max(_panicHigh, desiredPanic);
        }

        if (now < _panicUntil)
        {
            // Panicking: up to the panic window's count at once, never down.
            desired = Math.Max(Math.Max(desiredPanic, desiredStable), Math.Max(_panicHigh, active));
            _panicHigh = desired;
            panicking = true;
            if (byArrivals > Servers(panic, null))
            {
                learnedWhy = string.Create(CultureInfo.InvariantCulture, $", arrivals {panicArrivals:0.#}/s ÷ {perServer:0.#} per server learned within p95 {context.Capacity!.SloP95Ms:0} ms");
            }
        }
        else
        {
            _panicHigh = 0;
            desired = desiredStable;
        }

        int stabilized = _recommendations.Add(now, desired, now - _options.ScaleDownStabilization);
        int heldAt = stabilized > desired ? stabilized : -1;
        if (desired > active)
        {
            return new ScalingDecision(ScalingAction.Up, desired - active, Reason(-1)).WithinBounds(context);
        }

        if (stabilized < active && active > context.MinActive)
        {
            return ScalingDecision.Down(active - stabilized, $"{Reason(-1)}, highest in the last {Durations.Format(_options.ScaleDownStabilization)}: {stabilized}").WithinBounds(context);
        }

        // The hold is most evaluations of most backends (a panic's for a minute): its figures are kept, not formatted.
        return new ScalingDecision(ScalingAction.Hold, 0, Reason(heldAt));

        DecisionReason Reason(int held)
        {
            if (!panicking)
            {
                return new DecisionReason(Template(ref _stableReason, panic: false, _options.StableWindow), stable, desired, held);
            }

            WindowReason template = Template(ref _panicReason, panic: true, _options.PanicWindow);
            int until = (int)_panicUntil.TimeOfDay.TotalSeconds;
            return learnedWhy is null ? new DecisionReason(template, panic, desired, held, until) : new DecisionReason(template.Text(panic, desired, held, until, learnedWhy));
        }
    }

    // " over 1m (target 4 per server): desired ": the same text every evaluation while the options stay the same.
    private WindowReason Template(ref WindowReason? kept, bool panic, TimeSpan window) =>
        kept is { } reason && reason.Panic == panic && reason.Window == window && reason.Target.Equals(_options.TargetInFlight)
            ? reason
            : kept = new WindowReason(panic, window, _options.TargetInFlight);

    // "in-flight 3.2 over 1m (target 4 per server): desired 1[, held at 2 by the stabilization period]", or a panic's
    // "panic: in-flight 12 over 6s (target 4 per server), desired 3, no scale-down until 12:01:00[, held at …]": value
    // the window's in-flight, first the desired count, second the stabilized count when it holds above (else -1), third
    // a panic's end as seconds of its day. A panic sized by the learned model says what it learned after the target.
    private sealed class WindowReason(bool panic, TimeSpan window, double target) : ReasonTemplate
    {
        private readonly string _over = string.Create(CultureInfo.InvariantCulture, $" over {Durations.Format(window)} (target {target:0.#} per server)");

        public bool Panic => panic;

        public TimeSpan Window => window;

        public double Target => target;

        public override string Format(double value, int first, int second, int third) => Text(value, first, second, third, "");

        public string Text(double inFlight, int desired, int held, int untilSecond, string learned)
        {
            string until = panic ? string.Create(CultureInfo.InvariantCulture, $", no scale-down until {TimeOnly.FromTimeSpan(TimeSpan.FromSeconds(untilSecond)):HH:mm:ss}") : "";
            string heldAt = held < 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", held at {held} by the stabilization period");
            return string.Create(CultureInfo.InvariantCulture, $"{(panic ? "panic: " : "")}in-flight {inFlight:0.#}{_over}{learned}{(panic ? "," : ":")} desired {desired}{until}{heldAt}");
        }
    }

    private int Servers(double demand, double? perServer) => (int)Math.Ceiling(demand / (perServer ?? _options.TargetInFlight) - 1e-9);
}
