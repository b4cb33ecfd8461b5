using System.Globalization;
using System.Text;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Acts on wake lines (scale to zero): HAProxy's Lua hold reports the requests it holds for a backend with no usable
/// server; a backend at zero is woken at once, without waiting for an evaluation and bypassing the window (it has no
/// samples), sized to what is waiting. Repeated lines of one wake are one decision; a larger count while waking adds
/// servers. A paused backend or a standby replica does not act; a blind one does (a wake only adds capacity). Called
/// on the log reading thread for lines the request parser did not take.
/// </summary>
internal sealed class Wakes
{
    private const int MaxNameLength = 256;

    private readonly LiveBackends _backends;
    private readonly Func<bool> _acting;
    private readonly ActionServices _services;
    private readonly Action<ScaledBackend, ScalingPlan, CancellationToken> _start;
    private int _unknownLogged;

    /// <param name="backends">The autoscaled backends (the current set, replaced by a reload).</param>
    /// <param name="acting">Whether this replica acts (false: a standby of an active/standby pair).</param>
    /// <param name="services">Time, log and metrics.</param>
    /// <param name="start">Carries a wake's plan out (<see cref="Actuator.Start"/>), its servers claimed already.</param>
    public Wakes(LiveBackends backends, Func<bool> acting, ActionServices services, Action<ScaledBackend, ScalingPlan, CancellationToken> start)
    {
        _backends = backends;
        _acting = acting;
        _services = services;
        _start = start;
    }

    /// <summary>Whether <paramref name="line"/> is a wake line (then acted on and counted); allocates nothing for other lines.</summary>
    public bool TryTake(ReadOnlySpan<byte> line, CancellationToken cancellationToken)
    {
        if (!WakeLine.TryParse(line, out ReadOnlySpan<byte> name, out int held))
        {
            return false;
        }

        // A wake line is rare (a few per second per waking backend): its name may be decoded.
        if (name.Length > MaxNameLength || !_backends.TryGetValue(Encoding.UTF8.GetString(name), out ScaledBackend? backend))
        {
            _services.Metrics.Wakes.Add(1, AutoscaleMetrics.WakeTags("", "unknown-backend"));
            if (Interlocked.Exchange(ref _unknownLogged, 1) == 0)
            {
                Log.WakeUnknownBackend(_services.Logger, Encoding.UTF8.GetString(name[..Math.Min(name.Length, MaxNameLength)]));
            }

            return true;
        }

        Wake(backend, held, cancellationToken);
        return true;
    }

    /// <summary>Retries a wake that found the backend's servers on their way out (<see cref="WakeState.Pending"/>); the evaluation loop calls it.</summary>
    public void RetryPending(ScaledBackend backend, CancellationToken cancellationToken)
    {
        int? pending;
        lock (backend.Gate)
        {
            pending = backend.Wake.Pending;
        }

        if (pending is { } held)
        {
            Wake(backend, held, cancellationToken, retry: true);
        }
    }

    /// <summary>Acts on a wake line for <paramref name="backend"/> reporting <paramref name="held"/> requests held (<paramref name="retry"/>: no new line, not counted).</summary>
    public void Wake(ScaledBackend backend, int held, CancellationToken cancellationToken, bool retry = false)
    {
        DateTimeOffset now = _services.Time.GetUtcNow();
        ScalingPlan? plan = null;
        string outcome;
        string? notActing = null;
        lock (backend.Gate)
        {
            backend.Decider.OnWake();
            WakeState wake = backend.Wake;
            wake.Pending = null;
            if (backend.Servers.Roles.Any(r => r.Role == ServerRole.Active))
            {
                // Not at zero (an operator enabled a server, or a wake completed): nothing to wake.
                outcome = "not-at-zero";
                wake.End();
            }
            else if (HeldBy(backend, now) is { } gate)
            {
                outcome = "held";
                notActing = wake.HeldBy == gate ? null : gate == HoldGate.Paused ? "the backend is paused" : "this replica is a standby";
                wake.HeldBy = gate;
            }
            else
            {
                wake.HeldBy = null;
                bool first = !wake.IsWaking;
                if (first)
                {
                    wake.Begin(now, _services.Time.GetTimestamp(), held);
                }

                wake.Held = Math.Max(held, 0);
                (int desired, string sizing) = Size(backend, held);
                int more = desired - backend.Servers.Capacity;
                List<string> servers = more > 0 ? backend.Decider.Picker.ToEnable(more, now) : [];
                if (servers.Count > 0)
                {
                    wake.NoServerLogged = false;
                    string reason = first ? $"woken at zero: {sizing}" : $"waking: {sizing}";
                    var up = new ScalingPlan(backend.Name, now, ScalingDecision.Up(servers.Count, reason), servers, WindowValue.Empty, HasFreshData: false);
                    Actuator.Claim(backend, up);
                    backend.LastDecision = up.ToDecision();
                    plan = up;
                    outcome = first ? "woken" : "added";
                }
                else if (backend.Servers.Capacity > 0)
                {
                    outcome = "waking"; // the servers started by this wake are enough
                }
                else
                {
                    outcome = "no-server";
                    wake.End();
                    bool onItsWayOut = backend.Servers.Roles.Any(r => r.Role == ServerRole.Draining
                        || backend.Servers.StateOf(r.Server) == ServerLifecycleState.Stopping);
                    wake.Pending = onItsWayOut ? held : null;
                    notActing = wake.NoServerLogged ? null : "no server can be started now (each is draining, being stopped or in its failure back-off)";
                    wake.NoServerLogged = true;
                }
            }
        }

        if (!retry)
        {
            _services.Metrics.Wakes.Add(1, AutoscaleMetrics.WakeTags(backend.Name, outcome));
        }

        if (notActing is not null)
        {
            Log.WakeNotActedOn(_services.Logger, backend.Name, held, notActing);
        }

        if (plan is not { } woken)
        {
            return;
        }

        if (outcome == "woken")
        {
            Log.WakeStarted(_services.Logger, backend.Name, held, string.Join(", ", woken.Servers));
        }

        foreach (string server in woken.Servers)
        {
            Log.Decision(_services.Logger, backend.Name, "up", server, woken.Decision.Reason, Log.Value(woken.Window));
            _services.Metrics.Decisions.Add(1, AutoscaleMetrics.Tags(backend.Name, "up"));
        }

        _start(backend, woken, cancellationToken);
    }

    /// <summary>
    /// A scale-up of <paramref name="backend"/> ended (the actuator calls it): the first server to take traffic ends
    /// the wake (<c>wake_to_ready_seconds</c>); the failure of the last server it was starting ends it too.
    /// </summary>
    public static void UpEnded(ScaledBackend backend, string server, string? failure, ActionServices services)
    {
        long elapsedMs;
        int held;
        lock (backend.Gate)
        {
            WakeState wake = backend.Wake;
            if (!wake.IsWaking || (failure is not null && backend.Servers.Roles.Any(r => r.Role == ServerRole.Warming)))
            {
                return; // not waking, or another server is still on its way
            }

            if (failure is not null && backend.Servers.Roles.Any(r => r.Role == ServerRole.Active))
            {
                wake.End(); // a server serves already (enabled by someone else): the wake did not fail
                return;
            }

            elapsedMs = (long)services.Time.GetElapsedTime(wake.StartedTimestamp).TotalMilliseconds;
            held = wake.Held;
            wake.End();
            if (failure is null)
            {
                // The held requests go to the server now and log only when they end: the idle period counts from here,
                // not from the wake line (a start longer than idleScaleDown would drain the server it just woke).
                backend.Decider.OnWake();
            }
        }

        if (failure is null)
        {
            services.Metrics.WakeToReady.Record(elapsedMs / 1000.0, new KeyValuePair<string, object?>("backend", backend.Name));
            Log.WakeReady(services.Logger, backend.Name, server, elapsedMs, held);
        }
        else
        {
            Log.WakeFailed(services.Logger, backend.Name, elapsedMs, $"{server}: {failure}", held);
        }
    }

    // Paused by an operator, or a standby: the wake is not acted on (the Lua script repeats it every second).
    private HoldGate? HeldBy(ScaledBackend backend, DateTimeOffset now) =>
        backend.PausedUntil is { } until && now < until ? HoldGate.Paused : !_acting() ? HoldGate.Standby : null;

    /// <summary>
    /// The servers a wake asks for: ceil(held ÷ the policy's requests in flight per server) as the concurrency policy
    /// sizes a panic; a policy without such a figure (band, threshold, target, a custom one) gets one server, and its
    /// own rules add more once the first answers are logged. At least 1, at most the backend's maximum.
    /// </summary>
    internal static (int Servers, string Why) Size(ScaledBackend backend, int held)
    {
        int max = Math.Max(1, backend.Options.EffectiveMaxActive);
        if (backend.Decider.Policy is not ConcurrencyPolicy { TargetInFlight: > 0 and var target })
        {
            return (1, string.Create(CultureInfo.InvariantCulture, $"{held} request(s) held, one server (the policy has no per-server target)"));
        }

        int servers = Math.Clamp((int)Math.Ceiling(held / target - 1e-9), 1, max);
        return (servers, string.Create(CultureInfo.InvariantCulture, $"{held} request(s) held, {target:0.#} per server: {servers} server(s)"));
    }
}
