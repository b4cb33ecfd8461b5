using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging.Abstractions;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// The daemon's own decider (window, policy, bounds, settle time, idle rule, selection) on the simulated clock: fed
/// the simulated log lines as HAProxy writes them, asked for a plan at each evaluation. It counts the evaluations each
/// gate held and the flaps (a server sent one way, then the other within five minutes). For a backend that may go to
/// zero, the daemon's own <see cref="Wakes"/> acts on the simulated wake lines.
/// </summary>
internal sealed class SimulatedDecider : IDisposable
{
    private static readonly long FlapWindowMs = (long)TimeSpan.FromMinutes(5).TotalMilliseconds;

    private readonly BackendOptions _options;
    private readonly string[] _names;
    private readonly ManualClock _clock = new();
    private readonly Func<TimeProvider, ScaledBackend> _createEngine;
    private readonly long[] _lastAction;
    private readonly bool[] _lastActionUp;
    private ScaledBackend? _engine;
    private ActionServices? _services; // with the wakes, for a backend that may go to zero
    private Wakes? _wakes;
    private ScalingPlan? _woken;

    // createEngine makes the daemon's engine for this backend on the clock it is given (the simulated one).
    public SimulatedDecider(BackendOptions backend, string[] names, Func<TimeProvider, ScaledBackend> createEngine)
    {
        _options = backend;
        _names = names;
        _createEngine = createEngine;
        _lastAction = Enumerable.Repeat(long.MinValue, names.Length).ToArray();
        _lastActionUp = new bool[names.Length];
    }

    /// <summary>The engine's server table, where the simulated actuator records warm, active, draining, parked.</summary>
    public ServerTable Servers => _engine!.Servers;

    /// <summary>How many times a server was sent the other way within five minutes of its last action.</summary>
    public int Flaps { get; private set; }

    /// <summary>Per gate, the evaluations it held.</summary>
    public SortedDictionary<string, int> HeldBy { get; } = new(StringComparer.Ordinal);

    /// <summary>Creates the engine at the first arrival: the decider's start (the idle rule's origin) is then.</summary>
    /// <param name="now">The first arrival.</param>
    /// <param name="wakes">Whether wake lines will come (a backend that may go to zero).</param>
    public void Start(long now, bool wakes = false)
    {
        _clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(now));
        _engine = _createEngine(_clock);
        if (wakes)
        {
            // The daemon's wake path; its log and metrics go nowhere, the plan it starts is carried out by the simulation.
            _services = new ActionServices(_clock, NullLogger.Instance, new AutoscaleMetrics(() => [], () => []), TimeSpan.FromSeconds(30));
            _wakes = new Wakes(new LiveBackends([_engine]), () => true, _services, (_, plan, _) => _woken = plan);
        }
    }

    /// <summary>
    /// A wake line (<c>held</c> requests held) at <paramref name="now"/>, acted on as the daemon acts on it: the plan
    /// (servers claimed), or <see langword="null"/> when it starts nothing more.
    /// </summary>
    public ScalingPlan? Wake(long now, int held)
    {
        _clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(now));
        _woken = null;
        _wakes!.Wake(_engine!, held, CancellationToken.None);
        if (_woken is { } plan)
        {
            CountFlaps(plan, now);
        }

        return _woken;
    }

    /// <summary>A server enabled at <paramref name="now"/>: the actuator ends the wake it was started for, if any.</summary>
    public void Enabled(long now, string server)
    {
        if (_services is not null)
        {
            _clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(now));
            Wakes.UpEnded(_engine!, server, null, _services);
        }
    }

    /// <summary>A scale-up's server took traffic <paramref name="lag"/> after the decision: the forecast's lead time, as the actuator reports it.</summary>
    public void Ready(TimeSpan lag) => _engine!.Decider.Forecast?.NoteReady(lag);

    public void Dispose() => _services?.Metrics.Dispose();

    /// <summary>The daemon's evaluation at <paramref name="now"/>: the plan, claimed as the actuator claims it.</summary>
    public ScalingPlan Decide(long now, int[] connections)
    {
        _clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(now));
        if (_options.Selection == ServerSelection.LeastSessions)
        {
            for (int i = 0; i < _names.Length; i++)
            {
                _engine!.Servers.SetSessions(_names[i], connections[i]); // what the counter poller reads from HAProxy
            }
        }

        ScalingPlan plan = _engine!.Decider.Decide();
        if (plan.HeldBy is { } gate)
        {
            HeldBy[gate] = HeldBy.GetValueOrDefault(gate) + 1;
        }

        Actuator.Claim(_engine, plan);
        CountFlaps(plan, now);
        return plan;
    }

    private void CountFlaps(ScalingPlan plan, long now)
    {
        bool up = plan.Decision.Action == ScalingAction.Up;
        foreach (string name in plan.Servers)
        {
            int server = Array.IndexOf(_names, name);
            if (_lastAction[server] != long.MinValue && _lastActionUp[server] != up && now - _lastAction[server] <= FlapWindowMs)
            {
                Flaps++;
            }

            (_lastAction[server], _lastActionUp[server]) = (now, up);
        }
    }

    /// <summary>
    /// A simulated log line, as HAProxy writes it when the request ends, fed to the decider at that time. A request the
    /// Lua hold kept <paramref name="heldMs"/> has that wait in its first timer (TR) and its total, not in Tw or Tr.
    /// </summary>
    public void OnLine(long now, string server, int serverConnections, int tr, int tw, int status, int heldMs = 0)
    {
        _clock.Set(DateTimeOffset.FromUnixTimeMilliseconds(now));
        var record = new RequestRecord
        {
            Kind = RequestKind.Http,
            Backend = _options.Name,
            Server = server,
            StatusCode = status,
            ServerConnections = serverConnections,
            QueueTime = tw,
            ConnectTime = tr < 0 ? -1 : 0,
            ResponseTime = tr,
            RequestTime = heldMs,
            TotalTime = Math.Max(0, heldMs + tw + Math.Max(0, tr)),
        };
        _engine!.Decider.OnRecord(record);
    }
}
