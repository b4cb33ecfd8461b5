using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Reads every instance's state and brings the autoscaler's belief and HAProxy's state together. The first time, it
/// adopts HAProxy's state. Later: an instance that restarted (new PID, or an uptime that went back) lost its runtime
/// state and gets the desired state again; a server the autoscaler keeps active but finds in maintenance was put
/// there by someone: it is left alone and reported, until it is enabled again. Servers with an action on them are
/// skipped: the action owns them; a server whose action failed part-way gets its role's state applied again. A
/// reading taken while a role changed is not used (the next pass reads again), and the state an instance lost is
/// applied again until every command of it went through.
/// </summary>
internal sealed partial class Reconciler
{
    private readonly IReadOnlyList<IHaproxyControl> _instances;
    private readonly LiveBackends _backends;
    private readonly ILogger _logger;
    private readonly AutoscaleMetrics _metrics;
    private readonly bool _dryRun;
    private readonly Dictionary<string, HaproxyInfo> _seen = new(StringComparer.Ordinal);
    private bool _adopted;
    private bool _adoptedOnce; // adopting again (ha) logs only what changed
    private bool _reloaded; // a reload brought servers whose state is to be adopted (even in a dry run)

    // dryRun: the belief departs from HAProxy on purpose, so HAProxy's state is adopted at start only.
    public Reconciler(IReadOnlyList<IHaproxyControl> instances, LiveBackends backends, ILogger logger, AutoscaleMetrics metrics, bool dryRun)
    {
        _metrics = metrics;
        _dryRun = dryRun;
        _instances = instances;
        _backends = backends;
        _logger = logger;
    }

    /// <summary>Makes the next pass adopt HAProxy's state again, as the first one does (a standby, or a replica that takes over).</summary>
    public void Readopt() => _adopted = false;

    /// <summary>Makes the next pass run even in a dry run: a reload brought servers whose state it adopts (the others keep theirs).</summary>
    public void AdoptReloaded() => _reloaded = true;

    /// <summary>One pass over every instance; an unreachable instance is logged and skipped. Not re-entrant.</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        if (_adopted && _dryRun && !_reloaded)
        {
            return;
        }

        _reloaded = false;

        foreach (IHaproxyControl instance in _instances)
        {
            try
            {
                await ReconcileAsync(instance, cancellationToken).ConfigureAwait(false);
            }
            catch (HaproxyControlException e)
            {
                Log.ReconcileFailed(_logger, e.Message);
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // A custom control broke its contract on a read: contain it like an unreachable instance.
                Log.ExtensionFailed(_logger, "-", "-", "control", $"{e.GetType().Name}: {e.Message}");
                _metrics.ExtensionFailures.Add(1, AutoscaleMetrics.ExtensionTags("", "control"));
            }
        }

        _adopted = true;
        _adoptedOnce = true;
    }

    private async Task ReconcileAsync(IHaproxyControl instance, CancellationToken cancellationToken)
    {
        HaproxyInfo info = await instance.ShowInfoAsync(cancellationToken).ConfigureAwait(false);
        bool restarted = _seen.TryGetValue(instance.Endpoint, out HaproxyInfo? previous) && (previous.Pid != info.Pid || info.Uptime < previous.Uptime);
        var reapply = new List<Reapply>();
        var adoptions = new Adoptions(_logger, instance.Endpoint);
        try
        {
            await ReconcileEveryBackendAsync(instance, restarted, reapply, adoptions, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            adoptions.Summarize(); // a reading that failed part-way still says what it adopted
        }
        if (restarted && reapply.Count > 0)
        {
            Log.Reapplying(_logger, instance.Endpoint, previous!.Pid, info.Pid, (long)info.Uptime.TotalSeconds, reapply.Count);
        }

        int failed = 0;
        foreach (Reapply item in reapply)
        {
            try
            {
                if (item.ReaddAt is { } address)
                {
                    // A pool server HAProxy lost (reload): added again, then given its state below.
                    await ProviderCalls.AddServerAsync([instance], item.Backend.Options, item.Server.Name, address, cancellationToken).ConfigureAwait(false);
                    Log.ServerAdded(_logger, item.Backend.Name, item.Server.Name, address, $"HAProxy on {instance.Endpoint} lost it");
                }

                await (item.Enable
                    ? ServerCommands.EnableAsync(instance, item.Backend.Name, item.Server, cancellationToken)
                    : instance.SetServerStateAsync(item.Backend.Name, item.Server.Name, ServerAdminState.Maint, cancellationToken)).ConfigureAwait(false);
                lock (item.Backend.Gate)
                {
                    item.Backend.Servers.Settled(item.Server.Name);
                }
            }
            catch (HaproxyControlException e)
            {
                failed++;
                Log.ReconcileFailed(_logger, e.Message);
            }
        }

        // Until every server's state went through, the instance counts as restarted: the next pass applies it again
        // instead of taking the servers it missed for an operator's maintenance.
        if (failed == 0)
        {
            _seen[instance.Endpoint] = info;
        }
    }

    private sealed record Reapply(ScaledBackend Backend, ServerOptions Server, bool Enable, string? ReaddAt = null);

    private void Reconcile(string endpoint, ScaledBackend backend, List<ServerStateRow> states, bool restarted, List<Reapply> reapply, Adoptions adoptions)
    {
        ServerTable servers = backend.Servers;
        IList<ServerOptions> configured = backend.Options.Servers;
        for (int i = 0; i < configured.Count; i++) // indexed: an IList's enumerator is an object per backend per pass
        {
            ServerOptions server = configured[i];
            ServerStateRow? state = Find(states, server.Name);
            bool slot = Providers.PoolSlots.IsSlot(backend.Options, server.Name);
            bool unadopted = servers.IsUnadopted(server.Name); // it came with a reload
            if (_adopted && _dryRun && !unadopted)
            {
                continue; // a dry run's belief departs from HAProxy on purpose: only what a reload brought is adopted
            }

            if (unadopted && state is null)
            {
                servers.Adopted(server.Name);
            }

            if (state is null && slot)
            {
                // A pool server is in HAProxy only while it runs. One we added that HAProxy no longer has (a reload
                // forgets runtime-added servers) is added again, at the address its provider gave.
                ServerLifecycleState slotState = servers.StateOf(server.Name);
                if (servers.AddressOf(server.Name) is { } address && slotState is ServerLifecycleState.Active or ServerLifecycleState.Parked)
                {
                    reapply.Add(new Reapply(backend, server, Enable: slotState == ServerLifecycleState.Active, ReaddAt: address));
                }

                continue;
            }

            if (state is null)
            {
                if (!_adoptedOnce || unadopted)
                {
                    Log.UnknownServer(_logger, backend.Name, server.Name, endpoint);
                }

                continue;
            }

            ServerRole role = servers.RoleOf(server.Name);
            if (role is ServerRole.Warming or ServerRole.Draining)
            {
                continue; // an action owns it
            }

            ServerStateRow row = state.Value;
            ServerAdminState real = row.AdminState;
            if (!_adopted || unadopted)
            {
                servers.Adopted(server.Name);
                ServerRole adopted = real == ServerAdminState.Ready ? ServerRole.Active : ServerRole.Parked;
                servers.Set(server.Name, Adopted(adopted, servers.StateOf(server.Name), slot), justEnabled: false);
                if (slot)
                {
                    // Added by an earlier run of the autoscaler: it runs there.
                    servers.SetAddress(server.Name, row.Port is { } port ? $"{(row.Address.Contains(':', StringComparison.Ordinal) ? $"[{row.Address}]" : row.Address)}:{port}" : null);
                }

                if (!_adoptedOnce || role != adopted || unadopted)
                {
                    adoptions.Add(backend.Name, server.Name, adopted);
                }
            }
            else if (restarted || servers.IsUnsettled(server.Name))
            {
                // HAProxy lost its runtime state, or an action of ours failed part-way: apply the role's state again.
                if (role == ServerRole.Active && real != ServerAdminState.Ready)
                {
                    reapply.Add(new Reapply(backend, server, Enable: true));
                }
                else if (role == ServerRole.Parked && real != ServerAdminState.Maint)
                {
                    reapply.Add(new Reapply(backend, server, Enable: false));
                }
                else
                {
                    servers.Settled(server.Name);
                }
            }
            else if (role == ServerRole.Active && real == ServerAdminState.Maint)
            {
                servers.Set(server.Name, ServerLifecycleState.HeldByOperator);
                Log.HeldByOperator(_logger, backend.Name, server.Name, endpoint);
            }
            else if (role is ServerRole.HeldByOperator or ServerRole.Parked && real == ServerAdminState.Ready)
            {
                servers.Set(server.Name, ServerLifecycleState.Active, justEnabled: false);
                Log.Adopted(_logger, LogLevel.Information, backend.Name, server.Name, "active", endpoint);
            }
        }
    }

    private static ServerStateRow? Find(List<ServerStateRow> states, string server)
    {
        foreach (ServerStateRow state in states)
        {
            if (state.Server == server)
            {
                return state;
            }
        }

        return null;
    }

    // The state a server adopted from HAProxy's is in: a parked one keeps being stopped (or stopping) if it was,
    // unless it is a pool server, which is in HAProxy only while it runs.
    private static ServerLifecycleState Adopted(ServerRole adopted, ServerLifecycleState current, bool slot) =>
        adopted == ServerRole.Active ? ServerLifecycleState.Active
        : !slot && current is ServerLifecycleState.Stopped or ServerLifecycleState.Stopping ? current
        : ServerLifecycleState.Parked;
}
