using System.Globalization;
using System.Runtime.InteropServices;
using HaproxyAutoscale.Control;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Reads HAProxy's backend counters (<c>show stat -1 2 -1</c>, one command per instance; with a <c>least-sessions</c>
/// backend also the servers' sessions, <c>show stat -1 4 -1</c>) and hands them, summed over
/// the instances, to each backend's <see cref="LogCoverage"/>; logs when a backend turns blind and when its logs are
/// back. A reading that misses an instance is not used (a partial sum would look like lost logs).
/// </summary>
internal sealed class CounterPoller
{
    private readonly IReadOnlyList<IHaproxyControl> _instances;
    private readonly LiveBackends _backends;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AutoscaleMetrics _metrics;
    private string? _failing;
    private readonly Dictionary<string, BackendCounters> _sums = new(StringComparer.Ordinal); // one reading's rows, summed over the instances; reused

    public CounterPoller(IReadOnlyList<IHaproxyControl> instances, LiveBackends backends, TimeProvider time, ILogger logger, AutoscaleMetrics metrics)
    {
        _metrics = metrics;
        _instances = instances;
        _backends = backends;
        _time = time;
        _logger = logger;
    }

    public async Task PollAsync(CancellationToken cancellationToken)
    {
        LiveBackends.BackendSet set = _backends.Current;
        Dictionary<string, BackendCounters> sums = _sums;
        sums.Clear();
        BackendRow sum = Sum;
        foreach (IHaproxyControl instance in _instances)
        {
            try
            {
                // Read as it comes (10,000 rows at 10,000 backends): only the autoscaled backends' rows are kept.
                await instance.ReadBackendStatAsync(sum, NamesIn(set), cancellationToken).ConfigureAwait(false);
            }
            catch (HaproxyControlException e)
            {
                Failing(e.Message);
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                // A custom control broke its contract on a read: contain it like an unreachable instance.
                _metrics.ExtensionFailures.Add(1, AutoscaleMetrics.ExtensionTags("", "control"));
                Failing($"{e.GetType().Name}: {e.Message}");
                return;
            }
        }

        _failing = null;
        await PollSessionsAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = _time.GetUtcNow();
        foreach (ScaledBackend backend in set.InOrder)
        {
            if (!sums.TryGetValue(backend.Name, out BackendCounters counted))
            {
                continue;
            }

            int change;
            LogCoverage coverage = backend.Coverage!;
            lock (backend.Gate)
            {
                change = coverage.Update(now, backend.Decider.LoggedRequests, counted);
            }

            if (change > 0)
            {
                Log.BlindStarted(_logger, backend.Name, coverage.Counted, coverage.Logged, Ratio(coverage));
            }
            else if (change < 0)
            {
                Log.BlindEnded(_logger, backend.Name, Ratio(coverage));
            }
        }
    }

    // Servers' current sessions (summed over the instances) for the backends whose selection is least-sessions; read
    // only when one is configured. A failed reading leaves the last one (the pick is a preference).
    private async Task PollSessionsAsync(CancellationToken cancellationToken)
    {
        LiveBackends.BackendSet set = _backends.Current;
        ScaledBackend[] least = [.. set.InOrder.Where(IsLeastSessions)];
        if (least.Length == 0)
        {
            return;
        }

        var sessions = new Dictionary<(string, string), int>();
        void Add(ServerStat row) => sessions[(row.Backend, row.Server)] = sessions.GetValueOrDefault((row.Backend, row.Server)) + row.CurrentSessions;
        foreach (IHaproxyControl instance in _instances)
        {
            try
            {
                await ReadSessionsAsync(instance, set, least, Add, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                return;
            }
        }

        foreach (ScaledBackend backend in least)
        {
            lock (backend.Gate)
            {
                foreach ((string server, _) in backend.Servers.Roles)
                {
                    if (sessions.TryGetValue((backend.Name, server), out int count))
                    {
                        backend.Servers.SetSessions(server, count);
                    }
                }
            }
        }
    }

    private static bool IsLeastSessions(ScaledBackend backend) => backend.Options.Selection == Configuration.ServerSelection.LeastSessions;

    // A few least-sessions backends (the WebSocket services of a large fleet) are asked for by name, each its own rows
    // (show stat BACKEND 6 -1); from a tenth of the backends on, one reading of every server's row costs less (at 10,000
    // backends 0.36 ms a backend against 429 ms for all 80,000 rows: DrainCheckBenchmarks), and only their rows are kept.
    private static async Task ReadSessionsAsync(IHaproxyControl instance, LiveBackends.BackendSet set, ScaledBackend[] least, Action<ServerStat> add,
        CancellationToken cancellationToken)
    {
        if (least.Length * 10 >= set.InOrder.Length)
        {
            await instance.ReadServerStatAsync(add, NamesIn(set, IsLeastSessions), cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (ScaledBackend backend in least)
        {
            try
            {
                foreach (ServerStat row in await instance.ShowStatForBackendAsync(backend.Name, cancellationToken).ConfigureAwait(false))
                {
                    add(row);
                }
            }
            catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownBackend)
            {
                // Not on this instance: no sessions there.
            }
        }
    }

    /// <summary>
    /// The name of the backend of <paramref name="set"/> a row names (one <paramref name="wanted"/> accepts, when given),
    /// without a new string; null for a backend not autoscaled or not wanted.
    /// </summary>
    public static RowNames NamesIn(LiveBackends.BackendSet set, Func<ScaledBackend, bool>? wanted = null)
    {
#if NET9_0_OR_GREATER
        var lookup = set.ByName.GetAlternateLookup<ReadOnlySpan<char>>();
        return name => lookup.TryGetValue(name, out ScaledBackend? backend) && (wanted is null || wanted(backend)) ? backend.Name : null;
#else
        return name => set.ByName.TryGetValue(name.ToString(), out ScaledBackend? backend) && (wanted is null || wanted(backend)) ? backend.Name : null;
#endif
    }

    private static string Ratio(LogCoverage coverage) => coverage.Coverage is { } c ? c.ToString("0.00", CultureInfo.InvariantCulture) : "-";

    // Logged once until the counters can be read again; meanwhile they go stale and nothing scales down.
    private void Failing(string error)
    {
        if (_failing is null)
        {
            Log.CountersFailed(_logger, error);
        }

        _failing = error;
    }

    private void Sum(string backend, in BackendCounters row)
    {
        ref BackendCounters summed = ref CollectionsMarshal.GetValueRefOrAddDefault(_sums, backend, out bool earlier);
        summed = earlier ? summed.Add(row) : row;
    }
}
