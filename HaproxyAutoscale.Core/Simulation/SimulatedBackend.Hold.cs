using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Simulation;

/// <summary>Scale to zero in the simulation: HAProxy's Lua hold, the daemon's wakes, the provider's start.</summary>
internal sealed partial class SimulatedBackend
{
    // The next moment the Lua hold acts on its own: a held request's deadline, or a wake line.
    private long HoldMoment() => _hold is null ? long.MaxValue : Math.Min(_hold.Expiry, _hold.NextWakeCheck);

    private void OnHoldMoment(long now)
    {
        if (_hold!.Expiry <= now)
        {
            // Past the deadline the script answers 503 (HAProxy logs it without a server); a failed request.
            int held = _hold.Expire();
            _accounting.Completed(now, latencyMs: int.MaxValue);
            Log(now, RequestRecord.NoServerName, tr: -1, tw: 0, status: 503, held);
        }
        else if (_hold.WakeDue(now))
        {
            Wake(now);
        }
    }

    // A wake line: the daemon's wake path decides, the servers it claimed start as an evaluation's would.
    private void Wake(long now)
    {
        if (_decider!.Wake(now, _hold!.Count) is { } plan)
        {
            foreach (string name in plan.Servers)
            {
                Enable(Array.IndexOf(_names, name), now);
            }
        }
    }

    // A server entered rotation: the wake (if any) is over, each held request goes on at its next look.
    private void ReleaseHeld(int server, long now)
    {
        if (_hold is null)
        {
            return;
        }

        _decider!.Enabled(now, _names[server]);
        foreach ((long at, int wait) in _hold.Ready(now))
        {
            _events.Enqueue((Released, -1, 0, 0, wait), at);
        }
    }

    private void OnReleased(int held, long now)
    {
        if (!_routing.AnyInRotation())
        {
            _hold!.HoldAgain(now - held); // its server left before it looked: still no usable server
            return;
        }

        _hold!.Served(held);
        if (_routing.Pick() is int server)
        {
            Start(server, now, queuedSince: now, held);
        }
        else
        {
            _queued.Enqueue((now, held));
        }
    }

    // The actuator's scale-up of one claimed server: warming counts as capacity from now. A backend that may go to zero
    // with a provider has its server stopped once parked for keepWarm (and at the start): the provider starts it first.
    private void Enable(int server, long now)
    {
        _capacity++;
        long parkedMs = now - _parkedSince[server];
        bool stopped = _hold is not null && _options.Provider is { } provider && parkedMs >= provider.KeepWarm.TotalMilliseconds;
        bool cold = _model.ColdStartMs > 0 && (stopped || parkedMs >= _model.IdleToColdS * 1000);
        _cold[server] = cold;
        long warmup = stopped ? (long)Math.Ceiling(_simulation.ProviderStart.TotalMilliseconds) : 0;
        if (cold && _options.Servers[server].WarmupUrl is not null)
        {
            // The warm-up request pays the cold start before HAProxy sends users.
            warmup += (long)Math.Ceiling(_model.ColdStartMs);
            _cold[server] = false;
        }

        _events.Enqueue((WarmedUp, server, (int)Math.Min(int.MaxValue, warmup), 0, 0), now + warmup);
    }
}
