using System.Globalization;
using Cronos;
using HaproxyAutoscale.Configuration;

namespace HaproxyAutoscale.Scheduling;

/// <summary>
/// A backend's scheduled floors (<c>backends.NAME.schedule</c>), parsed once: the lower bound in force at a time, and
/// which entry sets it. Cron is parsed by Cronos (five fields, or six with seconds first), in the entry's time zone.
/// </summary>
internal sealed class ScheduledFloors
{
    private readonly List<(CronExpression Cron, TimeZoneInfo Zone, ScheduledFloorOptions Options)> _entries;

    private ScheduledFloors(List<(CronExpression, TimeZoneInfo, ScheduledFloorOptions)> entries) => _entries = entries;

    /// <summary>The floors of valid options (<see cref="Validate"/> found nothing); empty when none is configured.</summary>
    public static ScheduledFloors Create(IEnumerable<ScheduledFloorOptions> schedule) =>
        new([.. schedule.Select(s => (Parse(s.Cron)!, Zone(s.TimeZone)!, s))]);

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>The highest floor in force at <paramref name="now"/> and why, or (0, null) when none is.</summary>
    public (int MinActive, string? Why) At(DateTimeOffset now)
    {
        (int floor, string? why) = (0, null);
        foreach ((CronExpression cron, TimeZoneInfo zone, ScheduledFloorOptions options) in _entries)
        {
            // In force when the latest start is less than "for" ago.
            if (options.MinActive > floor && cron.GetPreviousOccurrence(now, zone, inclusive: true) is { } start && now - start < options.For)
            {
                floor = options.MinActive;
                why = $"scheduled floor of {floor.ToString(CultureInfo.InvariantCulture)} ('{options.Cron}' {zone.Id}, until {TimeZoneInfo.ConvertTime(start + options.For, zone):yyyy-MM-dd HH:mm})";
            }
        }

        return (floor, why);
    }

    /// <summary>Checks one entry, each problem with its key under <paramref name="path"/>.</summary>
    public static void Validate(ScheduledFloorOptions entry, string path, Action<string, string> addError)
    {
        if (string.IsNullOrWhiteSpace(entry.Cron))
        {
            addError($"{path}.cron", "required: a cron expression such as \"0 8 * * 1-5\"");
        }
        else if (Parse(entry.Cron) is null)
        {
            addError($"{path}.cron", $"'{entry.Cron}' is not a cron expression (five fields: minute hour day month weekday, or six with seconds first)");
        }

        if (entry.For <= TimeSpan.Zero)
        {
            addError($"{path}.for", "required: a duration more than 0, such as \"10h\"");
        }

        if (entry.MinActive < 1)
        {
            addError($"{path}.minActive", $"must be at least 1, not {entry.MinActive.ToString(CultureInfo.InvariantCulture)}");
        }

        if (entry.TimeZone is { } zone && Zone(zone) is null)
        {
            addError($"{path}.timeZone", $"'{zone}' is not a time zone known to this system (an IANA id such as \"Europe/Berlin\")");
        }
    }

    private static CronExpression? Parse(string text)
    {
        string trimmed = text.Trim();
        CronFormat format = trimmed.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        return CronExpression.TryParse(trimmed, format, out CronExpression? cron) ? cron : null;
    }

    private static TimeZoneInfo? Zone(string? id)
    {
        if (id is null)
        {
            return TimeZoneInfo.Utc;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }
}
