namespace HaproxyAutoscale.Forecasting;

/// <summary>
/// One backend's servers needed, per minute, over the last 14 days, in memory: a ring of 20,160 minutes (2 bytes each)
/// indexed by the minute itself, so adding is O(1) and the oldest minute is overwritten by the newest. A minute
/// without a record reads as unknown, not as zero.
/// </summary>
internal sealed class DemandHistory
{
    /// <summary>Minutes kept: 14 days.</summary>
    public const int Minutes = 14 * 24 * 60;

    private const ushort None = ushort.MaxValue;

    private readonly ushort[] _needed = new ushort[Minutes];
    private long _newest = long.MinValue;
    private int _count;

    public DemandHistory() => Array.Fill(_needed, None);

    /// <summary>How far back the history reaches.</summary>
    public static TimeSpan Span { get; } = TimeSpan.FromMinutes(Minutes);

    /// <summary>The newest minute recorded (Unix minutes), or <see langword="null"/> when empty.</summary>
    public long? Newest => _newest == long.MinValue ? null : _newest;

    /// <summary>Minutes that hold a record.</summary>
    public int Count => _count;

    /// <summary>Records the servers needed in <paramref name="minute"/> (Unix minutes); one older than 14 days before the newest is ignored.</summary>
    public void Add(long minute, int needed)
    {
        if (_newest != long.MinValue && minute <= _newest - Minutes)
        {
            return;
        }

        if (minute > _newest)
        {
            // The minutes skipped (nothing recorded: the daemon was down) hold records of 14 days ago: forget them.
            long from = _newest == long.MinValue ? minute : Math.Max(_newest + 1, minute - Minutes + 1);
            for (long skipped = from; skipped < minute; skipped++)
            {
                Set(Slot(skipped), None);
            }

            _newest = minute;
        }

        Set(Slot(minute), (ushort)Math.Clamp(needed, 0, None - 1));
    }

    private void Set(int slot, ushort value)
    {
        _count += (value == None ? 0 : 1) - (_needed[slot] == None ? 0 : 1);
        _needed[slot] = value;
    }

    /// <summary>The servers needed in <paramref name="minute"/>, or <see langword="null"/> when unknown.</summary>
    public int? At(long minute)
    {
        if (_newest == long.MinValue || minute > _newest || minute <= _newest - Minutes)
        {
            return null;
        }

        ushort needed = _needed[Slot(minute)];
        return needed == None ? null : needed;
    }

    public static int Slot(long minute) => (int)(((minute % Minutes) + Minutes) % Minutes);

    public static long MinuteOf(DateTimeOffset time) => (long)Math.Floor(time.ToUnixTimeMilliseconds() / 60_000.0);
}

/// <summary>One minute of a backend's demand as the history file keeps it.</summary>
/// <param name="Minute">The minute, in minutes since the Unix epoch (UTC).</param>
/// <param name="Needed">The most servers the backend's policy needed in the minute (within its configured bounds, before any floor).</param>
/// <param name="InFlight">The mean requests in flight of the minute's evaluations (the demand the need came from), or <see langword="null"/> when none was measured.</param>
internal readonly record struct DemandMinute(long Minute, int Needed, double? InFlight);
