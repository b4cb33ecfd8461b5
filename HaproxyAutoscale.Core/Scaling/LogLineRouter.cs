using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The log reader's path for lines: each parsed and held, then the held lines handed to their backends' deciders,
/// each under its backend's lock, when the source's read ends (<see cref="Flush"/>) or <see cref="BatchLines"/> are
/// held. One reader only (not thread-safe); the deciders' lock makes it safe against the evaluation pass, the
/// actuator, the reconciler and the admin.
/// </summary>
/// <remarks>
/// Why a batch: at thousands of backends each line's backend is a chain of cache misses (its pair, the backend, the
/// decider's parts). Taken line by line they come one after the other; taken for a batch in steps, the misses of
/// different lines overlap: every line's backend found, then every decider's parts asked for, then the records added
/// (at 10,000 backends about a sixth less CPU for the whole daemon, <c>results/scale.md</c>).
/// </remarks>
internal sealed class LogLineRouter(HaproxyLogParser parser, LiveBackends backends, TimeProvider time)
{
    /// <summary>The most lines held before they are handed on (a read of 64 KB holds about 350 of the rig's lines).</summary>
    internal const int BatchLines = 32;

    private readonly BackendsByPair _byPair = new(backends);
    private readonly RequestRecord[] _records = new RequestRecord[BatchLines];
    private readonly ServerPair?[] _pairs = new ServerPair?[BatchLines];
    private readonly ScaledBackend?[] _found = new ScaledBackend?[BatchLines];
    private int _held;

    /// <summary>Parses a line and holds its record; false when it is not a request line (the caller checks for other lines).</summary>
    public bool Route(ReadOnlySpan<byte> line)
    {
        if (!parser.TryParse(line, out _records[_held]))
        {
            return false;
        }

        _pairs[_held] = parser.LastPair;
        if (++_held == BatchLines)
        {
            Flush();
        }

        return true;
    }

    /// <summary>Hands the held records to their backends (the source's read ended: nothing waits for the next one).</summary>
    public void Flush()
    {
        int held = _held;
        for (int i = 0; i < held; i++)
        {
            _found[i] = _byPair.Find(_pairs[i]!);
        }

        for (int i = 0; i < held; i++)
        {
            _found[i]?.Decider.Prefetch(_records[i]); // the decider read outside its lock: a hint only
        }

        DateTimeOffset now = time.GetUtcNow(); // one reading of the clock for the batch (its lines came in one read)
        for (int i = 0; i < held; i++)
        {
            if (_found[i] is { } backend)
            {
                lock (backend.Gate)
                {
                    backend.Decider.OnRecord(_records[i], now); // never throws: a failing window is contained there
                }
            }
        }

        Array.Clear(_found, 0, held); // no backend a reload removed is kept alive here
        Array.Clear(_pairs, 0, held);
        _held = 0;
    }
}
