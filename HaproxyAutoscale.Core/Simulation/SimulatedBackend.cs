using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// A discrete-event simulation of one backend: the log's arrivals, HAProxy's routing (<see cref="SimulatedRouting"/>,
/// its maxconn queue, no server → 503), the fitted servers (latency = service × max(1, concurrency / k), cold starts),
/// and the daemon's own decider (<see cref="SimulatedDecider"/>) fed with the simulated log lines on the simulated
/// clock. The actuator's part is played here: warm-up before enable (a cold server's warm-up lasts its cold start),
/// drain (out of rotation at once, parked when its last request ends or at the drain timeout). A backend that may go to
/// zero gets HAProxy's Lua hold (<see cref="SimulatedHold"/>) and the daemon's wakes, and its stopped servers take the
/// provider's start before their warm-up.
/// </summary>
internal sealed partial class SimulatedBackend
{
    private const int Completion = 0, WarmedUp = 1, DrainDeadline = 2, Released = 3;

    private readonly BackendOptions _options;
    private readonly BackendModel _model;
    private readonly SimulationOptions _simulation;
    private readonly SimulatedDecider? _decider; // null for a static number of servers
    private readonly SimulatedRouting _routing;
    private readonly string[] _names;
    private readonly int[] _connections;
    private readonly bool[] _inRotation;
    private readonly bool[] _cold;
    private readonly long[] _parkedSince;
    private readonly int[] _drains;
    private readonly List<ScalingPlan> _decisions = []; // kept with the timeline
    private readonly PriorityQueue<(int Kind, int Server, int Tr, int Tw, int Held), long> _events = new();
    private readonly Queue<(long Since, int Held)> _queued = new();
    private readonly SimulatedHold? _hold; // null unless the backend may go to zero
    private readonly Random _random;
    private readonly SimulationAccounting _accounting;
    private readonly long _evaluationMs;
    private long _coldStarts;
    private long _lastTime;
    private int _capacity; // servers in rotation or warming (warming counts as capacity, as in the engine)

    public SimulatedBackend(AutoscaleOptions options, BackendOptions backend, ScalingPolicyRegistry policies, ResponseTimeWindowRegistry windows, BackendModel model, SimulationOptions simulation)
    {
        _options = backend;
        _model = model;
        _simulation = simulation;
        _random = new Random(simulation.Seed);
        _evaluationMs = Math.Max(1, (long)options.EvaluationInterval.TotalMilliseconds);
        int count = backend.Servers.Count;
        _names = [.. backend.Servers.Select(s => s.Name)];
        _connections = new int[count];
        _inRotation = new bool[count];
        _cold = new bool[count];
        _parkedSince = new long[count];
        _drains = new int[count];
        _routing = new SimulatedRouting(_connections, _inRotation, model.MaxConn, simulation.Balance);
        if (simulation.StaticServers is null)
        {
            _decider = new SimulatedDecider(backend, _names, clock => ScaledBackend.Create(backend, policies, windows, clock, new Random(simulation.Seed)));
        }

        _accounting = new SimulationAccounting(backend, model, simulation);
        _hold = SimulatedHold.Applies(backend, simulation) ? new SimulatedHold(simulation.HoldDeadline) : null;
        for (int i = 0; i < count; i++)
        {
            // Static: the first N serve from the start; with a policy, the alwaysUp ones (parked ones start cold).
            _inRotation[i] = simulation.StaticServers is { } n ? i < n : backend.Servers[i].AlwaysUp;
            _cold[i] = !_inRotation[i] && model.ColdStartMs > 0;
            _capacity += _inRotation[i] ? 1 : 0;
        }
    }

    public BackendSimulation Run(ReadOnlySpan<long> arrivals)
    {
        if (arrivals.IsEmpty)
        {
            return Result();
        }

        long start = arrivals[0];
        _decider?.Start(start, wakes: _hold is not null);
        _accounting.Start(start, _capacity);
        // The daemon's evaluation clock is not tied to the log: a recorded run's phase reproduces its decisions.
        long nextEvaluation = start + (_simulation.EvaluationPhase is { } phase ? Math.Clamp((long)phase.TotalMilliseconds, 0, _evaluationMs) : _evaluationMs);
        int next = 0;
        while (next < arrivals.Length || _events.Count > 0 || QueueExpiry() != long.MaxValue || HoldMoment() != long.MaxValue)
        {
            long arrival = next < arrivals.Length ? arrivals[next] : long.MaxValue;
            long eventTime = NextEventTime();
            long now = Math.Min(arrival, eventTime);
            while (_decider is not null && nextEvaluation <= now)
            {
                Evaluate(nextEvaluation);
                nextEvaluation += _evaluationMs;
                eventTime = NextEventTime();
                now = Math.Min(arrival, eventTime);
            }

            _accounting.Advance(now, _capacity);
            _lastTime = now;
            long expiry = QueueExpiry();
            long firstEvent = _events.TryPeek(out _, out long t) ? t : long.MaxValue;
            if (expiry != long.MaxValue && expiry <= Math.Min(arrival, firstEvent))
            {
                // HAProxy's "timeout queue": the oldest queued request gets a 503 after waiting that long.
                // A 503 is a failed request: it counts as over the SLO whatever it waited, as one without any server.
                (long since, int held) = _queued.Dequeue();
                _accounting.Completed(now, latencyMs: int.MaxValue);
                Log(now, RequestRecord.NoServerName, tr: -1, tw: (int)(now - since), status: 503, held);
            }
            else if (HoldMoment() is var moment && moment != long.MaxValue && moment <= Math.Min(arrival, firstEvent))
            {
                OnHoldMoment(moment);
            }
            else if (eventTime <= arrival)
            {
                (int kind, int server, int tr, int tw, int held) = _events.Dequeue();
                Handle(kind, server, tr, tw, held, eventTime);
            }
            else
            {
                Arrive(arrival);
                next++;
            }
        }

        // Requests still queued with no server left to take them and no queue timeout: they waited until the end.
        long end = _lastTime;
        while (_queued.Count > 0)
        {
            (long since, int held) = _queued.Dequeue();
            _accounting.Completed(end, (int)Math.Min(int.MaxValue, end - since + held));
        }

        _accounting.Finish(_capacity);
        _decider?.Dispose();
        return Result();
    }

    private BackendSimulation Result() =>
        _accounting.Result(Policy, _decider?.Flaps ?? 0, _coldStarts) with
        {
            HeldBy = _decider?.HeldBy ?? new SortedDictionary<string, int>(StringComparer.Ordinal), ScaleToZero = _hold?.Result(_accounting.ZeroSeconds),
            Decisions = _decisions,
        };

    private long NextEventTime() => Math.Min(Math.Min(_events.TryPeek(out _, out long t) ? t : long.MaxValue, QueueExpiry()), HoldMoment());

    private long QueueExpiry() =>
        _simulation.QueueTimeout is { } timeout && _queued.Count > 0 ? _queued.Peek().Since + (long)timeout.TotalMilliseconds : long.MaxValue;

    private string Policy => _simulation.StaticServers is { } n ? $"static {n}"
        : _options.Policy.Kind + (_options.Forecast.Mode == Forecasting.ForecastMode.On ? "+forecast" : "");

    private void Arrive(long now)
    {
        _accounting.Arrival(now);
        if (_routing.Pick() is int server)
        {
            Start(server, now, queuedSince: now);
        }
        else if (_routing.AnyInRotation())
        {
            _queued.Enqueue((now, 0)); // every server at maxconn: HAProxy's backend queue
        }
        else if (_hold is not null)
        {
            // No usable server: the Lua hold keeps the request; the first one held wakes the daemon at once.
            if (_hold.Hold(now))
            {
                Wake(now);
            }
        }
        else
        {
            // No server at all: HAProxy answers 503 <NOSRV> at once; the engine sees saturation.
            _accounting.Completed(now, latencyMs: int.MaxValue);
            Log(now, RequestRecord.NoServerName, tr: -1, tw: 0, status: 503);
        }
    }

    private void Start(int server, long now, long queuedSince, int held = 0)
    {
        _connections[server]++;
        double latency = _model.LatencyMs(_model.SampleServiceMs(_random.NextDouble()), _connections[server]);
        if (_cold[server])
        {
            latency += _model.ColdStartMs; // nobody warmed it up: this user pays the cold start
            _cold[server] = false;
            _coldStarts++;
        }

        int tw = (int)(now - queuedSince);
        int tr = (int)Math.Ceiling(latency);
        _events.Enqueue((Completion, server, tr, tw, held), now + tr);
    }

    private void Handle(int kind, int server, int tr, int tw, int held, long now)
    {
        switch (kind)
        {
            case Completion:
                _connections[server]--;
                _accounting.Completed(now, held + tw + tr);
                Log(now, _names[server], tr, tw, status: 200, held);
                if (_inRotation[server])
                {
                    DrainQueueOnto(server, now);
                }
                else if (_connections[server] == 0 && _decider?.Servers.RoleOf(_names[server]) == ServerRole.Draining)
                {
                    Parked(server, now);
                }

                break;
            case WarmedUp:
                _decider!.Servers.Set(_names[server], ServerLifecycleState.Active);
                _decider.Ready(TimeSpan.FromMilliseconds(tr)); // (tr carries the start and warm-up time) the forecast's lead, as the actuator measures it
                _inRotation[server] = true;
                DrainQueueOnto(server, now);
                ReleaseHeld(server, now);
                break;
            case Released:
                OnReleased(held, now);
                break;
            case DrainDeadline when _decider!.Servers.RoleOf(_names[server]) == ServerRole.Draining && tr == _drains[server]:
                // (tr carries the drain's number: a deadline of an earlier drain of this server does not count)
                Parked(server, now); // HAProxy puts it in maintenance; its last requests finish (or are cut) there
                break;
        }
    }

    // The daemon's evaluation at this instant: decide, claim, and start the actions the actuator would.
    private void Evaluate(long now)
    {
        _accounting.Advance(now, _capacity);
        ScalingPlan plan = _decider!.Decide(now, _connections);
        bool up = plan.Decision.Action == ScalingAction.Up;
        if (_simulation.KeepTimeline && plan.Servers.Count > 0)
        {
            _decisions.Add(plan);
        }

        foreach (string name in plan.Servers)
        {
            int server = Array.IndexOf(_names, name);
            if (up)
            {
                Enable(server, now);
            }
            else
            {
                _capacity--; // a draining server leaves rotation now
                _inRotation[server] = false;
                if (_connections[server] == 0)
                {
                    Parked(server, now);
                }
                else
                {
                    _events.Enqueue((DrainDeadline, server, ++_drains[server], 0, 0), now + (long)_options.ScaleDown.DrainTimeout.TotalMilliseconds);
                }
            }
        }
    }

    private void Parked(int server, long now)
    {
        _decider!.Servers.Set(_names[server], ServerLifecycleState.Parked);
        _parkedSince[server] = now;
    }

    private void DrainQueueOnto(int server, long now)
    {
        while (_queued.Count > 0 && _routing.HasRoom(server))
        {
            (long since, int held) = _queued.Dequeue();
            Start(server, now, since, held);
        }
    }

    // A simulated log line, as HAProxy writes it when the request ends (none to feed with a static number of servers).
    private void Log(long now, string server, int tr, int tw, int status, int held = 0) =>
        _decider?.OnLine(now, server, server == RequestRecord.NoServerName ? 0 : _connections[Array.IndexOf(_names, server)], tr, tw, status, held);
}
