using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Scaling;

internal sealed partial class Reconciler
{
    // One reading of every server (at 10,000 backends, one exchange instead of 10,000 every pass), read as it comes:
    // only the autoscaled backends' rows are kept, and each backend is reconciled as soon as its rows are read (HAProxy
    // lists a backend's servers together), so that the 80,000 rows are never held at once (held, they outlived young
    // collections and kept ~12 MB of the heap committed).
    private async Task ReconcileEveryBackendAsync(IHaproxyControl instance, bool restarted, List<Reapply> reapply, Adoptions adoptions, CancellationToken cancellationToken)
    {
        LiveBackends.BackendSet set = _backends.Current;
        // By name, not by the backend object: hashing an object by identity keeps its hash code in the header its lock
        // uses, and every lock on it then goes through a sync block (at 10,000 backends 8-11 % of the daemon's CPU).
        var changes = new Dictionary<string, long>(set.InOrder.Length, StringComparer.Ordinal);
        foreach (ScaledBackend backend in set.InOrder)
        {
            lock (backend.Gate)
            {
                changes[backend.Name] = backend.Servers.Changes;
            }
        }

        var rows = new List<ServerStateRow>();
        ScaledBackend? reading = null;
        HashSet<string>? again = null; // rows of a backend apart from each other: read again by its name
        await instance.ReadServersStateAsync(
            backend: null,
            state =>
            {
                if (!ReferenceEquals(state.Backend, reading?.Name))
                {
                    Read(reading);
                    reading = set.ByName[state.Backend];
                    if (!changes.ContainsKey(reading.Name))
                    {
                        (again ??= new(StringComparer.Ordinal)).Add(reading.Name);
                    }
                }

                rows.Add(state);
            },
            CounterPoller.NamesIn(set),
            ServerNames,
            cancellationToken).ConfigureAwait(false);
        Read(reading);

        foreach (ScaledBackend backend in set.InOrder)
        {
            // A backend without a row is read by its name: one HAProxy lacks fails the pass as it always did, one
            // whose servers are all pool servers not running yet reads empty.
            if (changes.ContainsKey(backend.Name) || again?.Contains(backend.Name) == true)
            {
                long before;
                lock (backend.Gate)
                {
                    before = backend.Servers.Changes;
                }

                await instance.ReadServersStateAsync(backend.Name, rows.Add, backends: null, ServerNames, cancellationToken).ConfigureAwait(false);
                ReconcileRows(backend, before);
            }
        }

        // Only configured servers' rows are reconciled: they are read with the configuration's names, not a new string per row.
        string? ServerNames(string backend, ReadOnlySpan<char> server)
        {
            ScaledBackend scaled = set.ByName[backend];
            lock (scaled.Gate)
            {
                return scaled.Servers.NameOf(server);
            }
        }

        void Read(ScaledBackend? backend)
        {
            if (backend is not null && changes.Remove(backend.Name, out long before))
            {
                ReconcileRows(backend, before);
            }

            rows.Clear();
        }

        void ReconcileRows(ScaledBackend backend, long changesBefore)
        {
            lock (backend.Gate)
            {
                // A role changed while HAProxy was read (an action completed): this reading may predate it.
                if (backend.Servers.Changes == changesBefore)
                {
                    Reconcile(instance.Endpoint, backend, rows, restarted, reapply, adoptions);
                }
            }

            rows.Clear();
        }
    }
}
