using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// A per-server line that can come by the ten thousand at once (a fleet's keep-warm stops after a restart): the first
/// <see cref="PerMinute"/> of each minute are information, the rest debug, counted, and told in one line once the burst
/// is over (or a minute went by). journald drops a service's lines past 10,000 in 30 s, the daemon's others with them.
/// </summary>
internal sealed class LineBudget(TimeProvider time)
{
    public const int PerMinute = 20;
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan BurstOver = TimeSpan.FromSeconds(1);

    private readonly object _gate = new();
    private DateTimeOffset _minute = DateTimeOffset.MinValue;
    private DateTimeOffset _last;
    private DateTimeOffset _quietSince;
    private int _lines;
    private int _quiet;

    /// <summary>The level of the next line.</summary>
    public LogLevel Next()
    {
        lock (_gate)
        {
            DateTimeOffset now = time.GetUtcNow();
            if (now - _minute >= Minute)
            {
                (_minute, _lines) = (now, 0);
            }

            _last = now;
            if (++_lines <= PerMinute)
            {
                return LogLevel.Information;
            }

            _quietSince = _quiet++ == 0 ? now : _quietSince;
            return LogLevel.Debug;
        }
    }

    /// <summary>How many lines went to debug level since when, once their burst is over or a minute old; null otherwise.</summary>
    public (int Count, DateTimeOffset Since)? TakeQuiet()
    {
        lock (_gate)
        {
            DateTimeOffset now = time.GetUtcNow();
            if (_quiet == 0 || (now - _last < BurstOver && now - _quietSince < Minute))
            {
                return null;
            }

            (int count, _quiet) = (_quiet, 0);
            return (count, _quietSince);
        }
    }
}
