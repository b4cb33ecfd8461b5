namespace HaproxyAutoscale.Configuration;

/// <summary>
/// How the engine turns any policy's recommendation into actions, per direction (as the Kubernetes HPA's
/// <c>behavior.scaleUp</c>/<c>scaleDown</c>): tolerance, cooldown, stabilization and step limits that apply to every
/// policy, built-in or custom. The defaults change nothing: the policy's own settings rule.
/// </summary>
public sealed class ScalingBehaviorOptions
{
    /// <summary>Rules for adding servers.</summary>
    public ScalingDirectionOptions Up { get; } = new();

    /// <summary>Rules for removing servers.</summary>
    public ScalingDirectionOptions Down { get; } = new();
}

/// <summary>The engine's rules for one direction of scaling.</summary>
public sealed class ScalingDirectionOptions
{
    /// <summary>
    /// No action while the policy's desired count is within this fraction of the active servers (0.1: with 10 active,
    /// a change of one server is not made).
    /// </summary>
    /// <value>The default is 0: every change is made.</value>
    public double Tolerance { get; set; }

    /// <summary>
    /// Least time after the last completed action before another: for up, after the last scale-up completed; for down,
    /// after the last scale-up or scale-down completed. It starts when the action completes (the server took traffic,
    /// or was parked), never on a decision the engine held back, and holds while an action of that direction is running.
    /// </summary>
    /// <value>The default is zero.</value>
    public TimeSpan Cooldown { get; set; }

    /// <summary>
    /// The policy's recommendation must hold for this long: up goes to the lowest desired count of the period, down to
    /// the highest (so a single evaluation never moves it).
    /// </summary>
    /// <value>The default is zero.</value>
    public TimeSpan Stabilization { get; set; }

    /// <summary>Most servers moved by one decision; <see langword="null"/> for no limit.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public int? MaxStep { get; set; }

    /// <summary>
    /// Down only: a server is drained only when no request of it was logged for this long (a busy server is not the
    /// one to take away); when none is that idle, the scale-down waits.
    /// </summary>
    /// <value>The default is zero: any server may be drained.</value>
    public TimeSpan MinIdleBeforePark { get; set; }
}

/// <summary>
/// A scheduled floor: from each time <see cref="Cron"/> fires, for <see cref="For"/>, the backend keeps at least
/// <see cref="MinActive"/> servers, so a known peak finds them warm. Cron has five fields (minute hour day month
/// weekday) or six (seconds first), in <see cref="TimeZone"/>.
/// </summary>
public sealed class ScheduledFloorOptions
{
    /// <summary>When the floor starts, e.g. <c>0 8 * * 1-5</c> (8:00 on weekdays). Required.</summary>
    public string Cron { get; set; } = "";

    /// <summary>How long the floor lasts from each start. Required, more than 0.</summary>
    public TimeSpan For { get; set; }

    /// <summary>Servers kept active during the floor (at most the configured servers and <c>maxActive</c>).</summary>
    public int MinActive { get; set; }

    /// <summary>An IANA or Windows time zone id, e.g. <c>Europe/Berlin</c>.</summary>
    /// <value>The default is <see langword="null"/>: UTC.</value>
    public string? TimeZone { get; set; }
}
