using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The log reader's path for one line: parsed, its backend found by the parser's pair, and handed to the backend's
/// decider under the backend's lock. One reader only (not thread-safe); the deciders' lock makes it safe against the
/// evaluation pass, the actuator, the reconciler and the admin.
/// </summary>
internal sealed class LogLineRouter(HaproxyLogParser parser, LiveBackends backends)
{
    private readonly BackendsByPair _byPair = new(backends);

    /// <summary>Routes a line; false when it is not a request line (the caller checks for other lines).</summary>
    public bool Route(ReadOnlySpan<byte> line)
    {
        if (!parser.TryParse(line, out RequestRecord record))
        {
            return false;
        }

        if (_byPair.Find(parser.LastPair!) is { } backend)
        {
            lock (backend.Gate)
            {
                backend.Decider.OnRecord(record); // never throws: a failing window is contained there
            }
        }

        return true;
    }
}
