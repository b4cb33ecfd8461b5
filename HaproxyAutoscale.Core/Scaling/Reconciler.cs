using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Reads every instance's state and brings the autoscaler's belief and HAProxy's state together. The first time, it
/// adopts HAProxy's state. Later: an instance that restarted (new PID, or an uptime that went back) lost its runtime
/// state and gets the desired state again; a server the autoscaler keeps active but finds in maintenance was put
/// there by someone: it is left alone and reported, until it is enabled again. Servers with an action on them are
/// skipped: the action owns them.
/// </summary>
internal sealed class Reconciler
{
    private readonly IReadOnlyList<IHaproxyControl> _instances;
    private readonly IReadOnlyCollection<ScaledBackend> _backends;
    private readonly ILogger _logger;
    private readonly bool _dryRun;
    private readonly Dictionary<string, HaproxyInfo> _seen = new(StringComparer.Ordinal);
    private bool _adopted;

    // dryRun: the belief departs from HAProxy on purpose, so HAProxy's state is adopted at start only.
    public Reconciler(IReadOnlyList<IHaproxyControl> instances, IReadOnlyCollection<ScaledBackend> backends, ILogger logger, bool dryRun)
    {
        _dryRun = dryRun;
        _instances = instances;
        _backends = backends;
        _logger = logger;
    }

    /// <summary>One pass over every instance; an unreachable instance is logged and skipped. Not re-entrant.</summary>
    public async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        if (_adopted && _dryRun)
        {
            return;
        }

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
        }

        _adopted = true;
    }

    private async Task ReconcileAsync(IHaproxyControl instance, CancellationToken cancellationToken)
    {
        HaproxyInfo info = await instance.ShowInfoAsync(cancellationToken).ConfigureAwait(false);
        bool restarted = _seen.TryGetValue(instance.Endpoint, out HaproxyInfo? previous) && (previous.Pid != info.Pid || info.Uptime < previous.Uptime);
        _seen[instance.Endpoint] = info;
        var reapply = new List<(string Backend, ServerOptions Server, bool Enable)>();
        foreach (ScaledBackend backend in _backends)
        {
            IReadOnlyList<ServerState> states = await instance.ShowServersStateAsync(backend.Name, cancellationToken).ConfigureAwait(false);
            lock (backend.Gate)
            {
                Reconcile(instance.Endpoint, backend, states, restarted, reapply);
            }
        }

        if (reapply.Count > 0)
        {
            Log.Reapplying(_logger, instance.Endpoint, previous!.Pid, info.Pid, (long)info.Uptime.TotalSeconds, reapply.Count);
            foreach ((string backend, ServerOptions server, bool enable) in reapply)
            {
                await (enable
                    ? ServerCommands.EnableAsync(instance, backend, server, cancellationToken)
                    : instance.SetServerStateAsync(backend, server.Name, ServerAdminState.Maint, cancellationToken)).ConfigureAwait(false);
            }
        }
    }

    private void Reconcile(string endpoint, ScaledBackend backend, IReadOnlyList<ServerState> states, bool restarted, List<(string, ServerOptions, bool)> reapply)
    {
        ServerTable servers = backend.Servers;
        foreach (ServerOptions server in backend.Options.Servers)
        {
            ServerState? state = states.FirstOrDefault(s => s.Server == server.Name);
            if (state is null)
            {
                if (!_adopted)
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

            ServerAdminState real = state.AdminState;
            if (!_adopted)
            {
                ServerRole adopted = real == ServerAdminState.Ready ? ServerRole.Active : ServerRole.Parked;
                servers.Set(server.Name, adopted, justEnabled: false);
                Log.Adopted(_logger, backend.Name, server.Name, adopted.ToString().ToLowerInvariant(), endpoint);
            }
            else if (restarted)
            {
                if (role == ServerRole.Active && real != ServerAdminState.Ready)
                {
                    reapply.Add((backend.Name, server, true));
                }
                else if (role == ServerRole.Parked && real != ServerAdminState.Maint)
                {
                    reapply.Add((backend.Name, server, false));
                }
            }
            else if (role == ServerRole.Active && real == ServerAdminState.Maint)
            {
                servers.Set(server.Name, ServerRole.HeldByOperator);
                Log.HeldByOperator(_logger, backend.Name, server.Name, endpoint);
            }
            else if (role is ServerRole.HeldByOperator or ServerRole.Parked && real == ServerAdminState.Ready)
            {
                servers.Set(server.Name, ServerRole.Active, justEnabled: false);
                Log.Adopted(_logger, backend.Name, server.Name, "active", endpoint);
            }
        }
    }
}
