using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Providers;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

internal sealed partial class KeepWarm
{
    /// <summary>
    /// After HAProxy's state was adopted (at start-up, or for the backends a reload brought): asks each provider whether
    /// its parked servers run, <see cref="CallsAtOnce"/> at a time, so what runs is kept warm (and stopped after
    /// <c>keepWarm</c>) and what is stopped is known. Runs beside the evaluation loop: until its answer, a parked
    /// server of a backend with a provider is stopped as far as a scale-up knows (it is started first: starting a
    /// running server succeeds), and a server an action took meanwhile is left to the action.
    /// </summary>
    public async Task AdoptProcessesAsync(IEnumerable<ScaledBackend> backends, CancellationToken cancellationToken)
    {
        List<ParkedServer> parked = Parked(backends);
        if (parked.Count == 0)
        {
            return;
        }

        var adoptions = new ProcessAdoptions(_services.Logger);
        long started = _services.Time.GetTimestamp();
        try
        {
            await Parallel.ForEachAsync(parked, new ParallelOptions { MaxDegreeOfParallelism = CallsAtOnce, CancellationToken = cancellationToken },
                async (server, token) => adoptions.Add(server, await AdoptAsync(server, token).ConfigureAwait(false))).ConfigureAwait(false);
        }
        finally
        {
            adoptions.Summarize(parked.Count, _services.Time.GetElapsedTime(started));
        }
    }

    // A parked server as it was when the question was asked: its answer is used only if it is still in that state.
    private sealed record ParkedServer(ScaledBackend Backend, string Server, bool Slot, bool InHaproxy, ServerLifecycleState State, DateTimeOffset Since);

    private static List<ParkedServer> Parked(IEnumerable<ScaledBackend> backends)
    {
        var parked = new List<ParkedServer>();
        foreach (ScaledBackend backend in backends)
        {
            if (backend.Provider is null)
            {
                continue;
            }

            lock (backend.Gate)
            {
                foreach (string server in backend.Options.Servers.Select(s => s.Name).Where(s => backend.Servers.RoleOf(s) == ServerRole.Parked))
                {
                    parked.Add(new ParkedServer(backend, server, PoolSlots.IsSlot(backend.Options, server), backend.Servers.AddressOf(server) is not null,
                        backend.Servers.StateOf(server), backend.Servers.StateSince(server)));
                }
            }
        }

        return parked;
    }

    // The provider's answer for one server, applied; null when an action took the server meanwhile.
    private async Task<(ServerRunState State, ServerLifecycleState Lifecycle)?> AdoptAsync(ParkedServer parked, CancellationToken cancellationToken)
    {
        (ScaledBackend backend, string server) = (parked.Backend, parked.Server);
        ServerRunState state;
        try
        {
            state = await _provider.WithDeadlineAsync(backend, server, "status", (p, t) => p.GetStatusAsync(new ServerProviderTarget(backend.Name, server), t), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            Log.ProviderFailed(_services.Logger, backend.Name, server, "status", ProviderCalls.Describe(e));
            state = ServerRunState.Unknown;
        }

        // Running or unknown: it may run, so it is parked warm and stopped after keepWarm (stop is idempotent).
        // Due for its stop at once: a pool server that runs outside HAProxy (its address is not known), or one
        // still in HAProxy whose process is stopped (it is deleted).
        ServerLifecycleState lifecycle = state == ServerRunState.Stopped && !(parked.Slot && parked.InHaproxy) ? ServerLifecycleState.Stopped : ServerLifecycleState.Parked;
        bool due = lifecycle == ServerLifecycleState.Parked && parked.Slot && (state == ServerRunState.Stopped || !parked.InHaproxy);
        lock (backend.Gate)
        {
            ServerTable servers = backend.Servers;
            if (servers.RoleOf(server) != ServerRole.Parked || servers.StateOf(server) != parked.State || servers.StateSince(server) != parked.Since)
            {
                return null; // an action (or a reload) took it meanwhile
            }

            servers.Set(server, lifecycle);
            if (due)
            {
                servers.StopDue(server);
            }
        }

        return (state, lifecycle);
    }

    /// <summary>
    /// The answers of one adoption, for the log: the first <see cref="Adoptions.LoggedEach"/> get a line each, the rest
    /// a line at debug level and, together, one summary (a fleet's start asks about tens of thousands of servers).
    /// </summary>
    private sealed class ProcessAdoptions(ILogger logger)
    {
        private int _taken; // answers applied so far
        private int _running;
        private int _stopped;
        private int _unknown;

        public void Add(ParkedServer parked, (ServerRunState State, ServerLifecycleState Lifecycle)? adopted)
        {
            if (adopted is not { } answer)
            {
                return;
            }

            _ = answer.State switch
            {
                ServerRunState.Running => Interlocked.Increment(ref _running),
                ServerRunState.Stopped => Interlocked.Increment(ref _stopped),
                _ => Interlocked.Increment(ref _unknown),
            };
            Log.ProcessAdopted(logger, Adoptions.Level(Interlocked.Increment(ref _taken)), parked.Backend.Name, parked.Server, answer.State.ToString().ToLowerInvariant(), ServerStates.Name(answer.Lifecycle));
        }

        public void Summarize(int asked, TimeSpan took)
        {
            if (_taken > Adoptions.LoggedEach)
            {
                Log.ProcessesAdopted(logger, asked, Durations.Format(took), _running, _stopped, _unknown, asked - _taken, Adoptions.LoggedEach);
            }
        }
    }
}
