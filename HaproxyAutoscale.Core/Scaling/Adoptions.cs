using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The servers one reading of an instance adopted, for the log: the first <see cref="LoggedEach"/> get a line each, the
/// rest a line at debug level and, together, one summary. At 10,000 backends a start adopts 80,000 servers; a line
/// each would flood the journal, and journald's default rate limit (10,000 lines in 30 s) would drop the daemon's
/// other lines with them.
/// </summary>
internal sealed class Adoptions(ILogger logger, string endpoint)
{
    public const int LoggedEach = 20;
    private int _active;
    private int _parked;

    public void Add(string backend, string server, ServerRole role)
    {
        if (role == ServerRole.Active)
        {
            _active++;
        }
        else
        {
            _parked++;
        }

        Log.Adopted(logger, Level(_active + _parked), backend, server, role == ServerRole.Active ? "active" : "parked", endpoint);
    }

    /// <summary>The level of the <paramref name="nth"/> server's line (from 1) of one adoption.</summary>
    public static LogLevel Level(int nth) => nth <= LoggedEach ? LogLevel.Information : LogLevel.Debug;

    /// <summary>At the reading's end: one line for all, when some were logged at debug level only.</summary>
    public void Summarize()
    {
        if (_active + _parked > LoggedEach)
        {
            Log.AdoptedMany(logger, _active + _parked, endpoint, _active, _parked, LoggedEach);
        }
    }
}
