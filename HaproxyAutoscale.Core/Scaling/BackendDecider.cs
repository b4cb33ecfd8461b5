using HaproxyAutoscale.Capacity;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Forecasting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scheduling;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Decides for one backend: records feed its window, an evaluation asks its policy, applies the rules common to every
/// policy (bounds, settle time, back-off) and picks the servers. Pure: no I/O, time from the <see cref="TimeProvider"/>;
/// it reads the servers' roles and never changes them. An exception from the window or the policy is contained
/// here (a hold that says why) and handed to the engine through <see cref="TakeFault"/>. Not thread-safe: callers
/// hold the backend's lock.
/// </summary>
internal sealed partial class BackendDecider
{
    private readonly BackendOptions _options;
    private readonly IScalingPolicy _policy;
    private readonly ServerTable _servers;
    private readonly TimeProvider _time;
    private DateTimeOffset _started; // carried over by a reload that keeps the window
    private readonly LogCoverage? _coverage;
    private readonly CounterGuards? _counters; // null where HAProxy's counters are not read (replay, tests)
    private IntervalStatistics _interval; // carried over by a reload
    private readonly ServerPicker _picker;
    private bool _saturated;
    private int _newSamples;
    private DecisionFault? _fault;
    private BehaviorGate _behavior; // carried over by a reload that keeps the behaviour
    private readonly ScheduledFloors _floors;
    private readonly bool _trackIdle;
    private ScalingDecision? _actedOn; // the policy's last decision the plan carries out (told to the policy if held later)
    private CapacityLearner _capacity; // carried over by a reload
    private readonly int _minActive, _maxActive; // the options' effective bounds (counted over the servers: asked often)
    private readonly ResponseTimer _timer; // read per line: kept here, not two objects away in the options
    private readonly bool _forecasting; // off: the forecast's state is not read (a miss per backend per pass at 10,000)
    private bool _offNewsTaken;

    // coverage: HAProxy's counters for the backend (the daemon); null where there are none (replay, tests).
    public BackendDecider(BackendOptions options, IScalingPolicy policy, IResponseTimeWindow window, ServerTable servers, TimeProvider time, Random? random = null,
        LogCoverage? coverage = null, BlindFallback fallback = BlindFallback.Stat)
    {
        _options = options;
        _policy = policy;
        Window = window;
        _servers = servers;
        _time = time;
        _started = time.GetUtcNow();
        _coverage = coverage;
        _counters = coverage is null ? null : new CounterGuards(options, coverage, fallback, _started, this);
        _interval = new IntervalStatistics(_started);
        _capacity = new CapacityLearner(_started, options.Slo.P95); // read per line: allocated next to the decider
        _picker = new ServerPicker(options, servers, random ?? Random.Shared);
        _behavior = new BehaviorGate(options.Behavior);
        _floors = ScheduledFloors.Create(options.Schedule);
        _trackIdle = options.Behavior.Down.MinIdleBeforePark > TimeSpan.Zero;
        (_minActive, _maxActive, _timer) = (options.EffectiveMinActive, options.EffectiveMaxActive, options.Window.Timer);
        _forecasting = options.Forecast.Mode != ForecastMode.Off;
    }

    /// <summary>The backend's server model, learned from its records.</summary>
    public CapacityLearner Capacity => _capacity;

    public IResponseTimeWindow Window { get; }

    public IScalingPolicy Policy => _policy;

    /// <summary>Picks the servers a decision moves (a wake picks with it too).</summary>
    public ServerPicker Picker => _picker;

    public DateTimeOffset? LastRequest { get; private set; }

    /// <summary>The backend's forecast (its history and lead time), carried over by a reload; <see langword="null"/>: none.</summary>
    public BackendForecast? Forecast { get; set; }

    /// <summary>
    /// The forecast's news for the log (<see cref="BackendForecast.TakeNews"/>). While forecasting is off, only once:
    /// what a reload that turned it off left to say (an ended floor); nothing new comes until a reload turns it on.
    /// </summary>
    public (string? LoadNote, ForecastStatus? Changed, bool Ended) TakeForecastNews()
    {
        if (Forecast is null || (!_forecasting && _offNewsTaken))
        {
            return default;
        }

        _offNewsTaken = !_forecasting;
        return Forecast.TakeNews();
    }

    /// <summary>The last evaluation's bounds, in-flight and servers wanted, for the metrics; <see langword="null"/> before the first.</summary>
    public EvaluationGauges? Gauges { get; private set; }

    /// <summary>Requests of this backend parsed from the logs since the start (compared with HAProxy's counters).</summary>
    public long LoggedRequests { get; private set; }

    /// <summary>
    /// Makes the refill rule count from now, as after a start: a standby that takes over may not scale down before its
    /// window has refilled under its leadership.
    /// </summary>
    public void RestartRefill() => _counters?.RestartRefill(_time.GetUtcNow());

    /// <summary>
    /// HAProxy holds a request for the backend (a wake line): demand, like a request, although none is logged until it
    /// ends. The idle rule counts from here, so the server a wake enables is not parked before its first answer is logged.
    /// </summary>
    public void OnWake() => LastRequest = _time.GetUtcNow();

    public void OnRecord(in RequestRecord record) => OnRecord(record, _time.GetUtcNow());

    /// <summary>Adds a record that arrived at <paramref name="now"/> (the log reader reads the clock once per read).</summary>
    public void OnRecord(in RequestRecord record, DateTimeOffset now)
    {
        LastRequest = now;
        LoggedRequests++;
        if ((record.HasNoServer && record.StatusCode == 503) || record.QueueTime > 0)
        {
            _saturated = true;
        }

        if (_interval.Add(record) && _trackIdle)
        {
            _servers.NoteRequest(record.Server, now);
        }

        // A server that just came up answers slowly at first: its samples would trigger another scale-up.
        if (record.HasNoServer || _servers.IsSettling(record.Server, now))
        {
            return;
        }

        _capacity.Add(record);

        int sample = ResponseTimeWindows.SampleOf(record, _timer);
        if (sample < 0)
        {
            return;
        }

        try
        {
            Window.Add(sample);
            _newSamples++;
            SamplesTaken++;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Per line: remember it, the engine reports it once per evaluation instead of once per line.
            Fault("window", e);
        }
    }

    public ScalingPlan Decide()
    {
        DateTimeOffset now = _time.GetUtcNow();
        _actedOn = null;
        _capacity.Refresh(now);
        WindowValue window;
        try
        {
            window = Window.Evaluate();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fault("window", e);
            return Hold(now, WindowValue.Empty, $"the window failed ({e.GetType().Name}: {e.Message}): holding", fresh: false, HoldGate.WindowError);
        }

        // A scheduled floor raises the lower bound the policy sees (never above the upper one).
        (int floor, string? floorWhy) = _floors.IsEmpty ? (0, null) : _floors.At(now);
        int minActive = Math.Min(Math.Max(_minActive, floor), _maxActive);
        (double arrivalRate, double? inFlight, int? demandServers) = _interval.Take(now, _servers.ActiveCount);
        var context = new ScalingContext(_options.Name, now, window, _servers.Capacity, minActive, _maxActive, _saturated, LastRequest, _started, _newSamples)
        {
            LastScaleUpCompleted = _servers.LastUpCompleted,
            LastScaleDownCompleted = _servers.LastDownCompleted,
            Coverage = _coverage?.Coverage,
            Blind = _coverage?.Blind ?? false,
            Capacity = _capacity.Current,
            ArrivalRate = arrivalRate,
            InFlight = inFlight,
            DemandServers = demandServers,
        };
        _saturated = false;
        _newSamples = 0;
        if (_counters is not null)
        {
            if (_counters.Adjust(ref context) is { } blindHold)
            {
                Gauges = EvaluationGauges.Holding(context);
                return Hold(now, window, blindHold, context.HasFreshData, HoldGate.Blind);
            }
        }

        ScalingDecision asked;
        try
        {
            asked = _policy.Decide(context);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Fault("policy", e);
            Gauges = EvaluationGauges.Holding(context);
            return Hold(now, window, $"the policy failed ({e.GetType().Name}: {e.Message}): holding", context.HasFreshData, HoldGate.PolicyError);
        }

        // What the policy needs within the configured bounds, before any floor: the forecast's history.
        if (_forecasting)
        {
            Forecast?.Note(now, Math.Clamp(context.ActiveServers + asked.Action switch { ScalingAction.Up => asked.Servers, ScalingAction.Down => -asked.Servers, _ => 0 },
                Math.Min(_minActive, _maxActive), _maxActive), context.InFlight);
        }

        if (_forecasting && Forecast?.At(now) is { Mode: ForecastMode.On } forecast && Math.Min(forecast.Servers, _maxActive) > minActive)
        {
            // The forecast floor binds after the policy decided: the policy's own scale-down (held here) tells the
            // history what is needed, so the floor does not feed itself. A floor only: it never takes a server away.
            (minActive, floorWhy) = (Math.Min(forecast.Servers, _maxActive), forecast.Reason);
            context = context with { MinActive = minActive };
        }

        ScalingDecision decision = asked.WithinBounds(context);
        HoldGate? heldBy = asked.Action != ScalingAction.Hold && decision.Action == ScalingAction.Hold ? HoldGate.Bounds : null;
        bool floored = floorWhy is not null && context.ActiveServers < minActive && !(decision.Action == ScalingAction.Up && decision.Servers >= minActive - context.ActiveServers);
        if (floored)
        {
            // Below a scheduled or forecast floor: up to it, whatever the policy said (its decision is not carried out).
            heldBy = null;
            decision = ScalingDecision.Up(minActive - context.ActiveServers, $"{floorWhy}; the policy: {asked.Reason}");
        }

        Gauges = EvaluationGauges.Of(context, decision); // what is wanted within bounds, before the rules that pace it
        if (!floored && heldBy is null)
        {
            (decision, heldBy) = _behavior.Apply(decision, context, _servers);
        }

        if (decision.Action == ScalingAction.Down && _counters?.DownHeldBy(now, context) is { } held)
        {
            decision = ScalingDecision.Hold($"{decision.Reason}, but {held.Why}");
            heldBy = held.Rule;
        }

        // Warming and settling servers are capacity already (they are in ActiveServers): a policy that asks for more
        // than them gets more at once. The policies' breach counts and the behaviour's cooldowns pace scale-ups.
        // Array.Empty, not []: the switch's type is List<string>, and a new empty list per backend per pass, kept by the
        // backend as its last decision, made every young collection scan every backend (20 ms at 10,000 backends).
        IReadOnlyList<string> servers = decision.Action switch
        {
            ScalingAction.Up => _picker.ToEnable(decision.Servers, now),
            ScalingAction.Down => _picker.ToDrain(decision.Servers, now),
            _ => Array.Empty<string>(),
        };

        if (servers.Count == 0 && decision.Action != ScalingAction.Hold)
        {
            bool busy = decision.Action == ScalingAction.Down && _trackIdle && _picker.ToDrain(decision.Servers, now, ignoreIdle: true).Count > 0;
            decision = ScalingDecision.Hold(busy
                ? $"{decision.Reason}, but no server has been idle for {Durations.Format(_options.Behavior.Down.MinIdleBeforePark)}"
                : $"{decision.Reason}, but no server can move");
            heldBy = busy ? HoldGate.MinIdle : HoldGate.Selection;
        }

        if (asked.Action != ScalingAction.Hold)
        {
            if (decision.Action != asked.Action)
            {
                Feedback(asked, heldBy ?? HoldGate.Schedule); // held back, or overruled by a scheduled floor
            }
            else
            {
                _actedOn = asked;
            }
        }

        return new ScalingPlan(_options.Name, now, decision, servers, window, context.HasFreshData, heldBy);
    }

    private ScalingPlan Hold(DateTimeOffset now, WindowValue window, string reason, bool fresh, HoldGate heldBy) =>
        new(_options.Name, now, ScalingDecision.Hold(reason), [], window, fresh, heldBy);
}
