namespace HaproxyAutoscale.Simulation;

/// <summary>
/// HAProxy's choice of a server for a request: roundrobin or leastconn over the servers in rotation that are below
/// their <c>maxconn</c>. It reads the connection counts and the rotation the simulation keeps (shared arrays).
/// </summary>
internal sealed class SimulatedRouting(int[] connections, bool[] inRotation, int? maxConn, SimulatedBalance balance)
{
    private int _nextRoundRobin;

    /// <summary>Whether <paramref name="server"/> is below its <c>maxconn</c>.</summary>
    public bool HasRoom(int server) => maxConn is not { } max || connections[server] < max;

    /// <summary>Whether any server is in rotation (with or without room): if not, HAProxy answers 503 at once.</summary>
    public bool AnyInRotation() => Array.IndexOf(inRotation, true) >= 0;

    /// <summary>The server for the next request, or <see langword="null"/> when every one in rotation is full.</summary>
    public int? Pick()
    {
        int count = connections.Length;
        int? best = null;
        for (int offset = 0; offset < count; offset++)
        {
            int i = (_nextRoundRobin + offset) % count;
            if (!inRotation[i] || !HasRoom(i))
            {
                continue;
            }

            if (balance == SimulatedBalance.RoundRobin)
            {
                _nextRoundRobin = (i + 1) % count;
                return i;
            }

            if (best is not int b || connections[i] < connections[b])
            {
                best = i;
            }
        }

        return best;
    }
}
