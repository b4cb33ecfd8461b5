using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Windows;

/// <summary>
/// What "recent response time" means for a backend: samples go in, one number comes out. Time comes from the
/// window's <see cref="TimeProvider"/>, so a window that holds samples for a while forgets them even when no new
/// sample arrives. Not thread-safe: one window per backend, fed and evaluated by one loop.
/// </summary>
public interface IResponseTimeWindow
{
    /// <summary>Adds a sample (milliseconds, ≥ 0) taken now. O(1) amortised, no allocation.</summary>
    void Add(int milliseconds);

    /// <summary>The window's value now, or <see cref="WindowValue.Empty"/> when it holds no sample.</summary>
    WindowValue Evaluate();
}

/// <summary>A window's value and how many samples it rests on. No sample means no value: never read it as 0 ms.</summary>
/// <param name="Value">The statistic in milliseconds; meaningless when <see cref="SampleCount"/> is 0.</param>
/// <param name="SampleCount">Samples behind the value (for <c>ewma</c>, the decayed weight rounded up).</param>
public readonly record struct WindowValue(double Value, int SampleCount)
{
    /// <summary>No sample.</summary>
    public static WindowValue Empty => default;

    /// <summary>Whether the window holds any sample.</summary>
    public bool HasValue => SampleCount > 0;
}

/// <summary>Which statistic a window reports.</summary>
public enum WindowStatistic
{
    /// <summary>Arithmetic mean: every sample counts, so a few slow requests move it.</summary>
    Mean,

    /// <summary>Median.</summary>
    P50,

    /// <summary>90th percentile.</summary>
    P90,

    /// <summary>95th percentile.</summary>
    P95,

    /// <summary>99th percentile.</summary>
    P99,

    /// <summary>Largest sample.</summary>
    Max,
}

/// <summary>Which of a request's timers feeds the window.</summary>
public enum ResponseTimer
{
    /// <summary>Tr, the server's response time (headers received): what a slow application shows first.</summary>
    Tr,

    /// <summary>Ta, the total active time of the request.</summary>
    Ta,

    /// <summary>Tw + Tc + Tr: queue, connect and response, what a client waits for beyond its own upload.</summary>
    TwTcTr,
}

/// <summary>The built-in window kinds, as named in configuration.</summary>
public static class WindowKinds
{
    /// <summary>The last N samples.</summary>
    public const string Count = "count";

    /// <summary>The samples of the last T.</summary>
    public const string Time = "time";

    /// <summary>Exponentially weighted moving average with a half-life.</summary>
    public const string Ewma = "ewma";
}

/// <summary>Options of a backend's window.</summary>
public sealed class WindowOptions
{
    /// <summary>The kind: <c>count</c>, <c>time</c> or <c>ewma</c> (see <see cref="WindowKinds"/>).</summary>
    /// <value>The default is <c>count</c>.</value>
    public string Kind { get; set; } = WindowKinds.Count;

    /// <summary>Samples kept by a <c>count</c> window.</summary>
    /// <value>The default is 15.</value>
    public int Size { get; set; } = 15;

    /// <summary>How long a <c>time</c> window keeps samples.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Half-life of an <c>ewma</c> window: a sample's weight halves every half-life.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan HalfLife { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The statistic reported; <c>ewma</c> supports only <see cref="WindowStatistic.Mean"/>.</summary>
    /// <value>The default is <see cref="WindowStatistic.Mean"/>.</value>
    public WindowStatistic Statistic { get; set; } = WindowStatistic.Mean;

    /// <summary>The timer that feeds the window.</summary>
    /// <value>The default is <see cref="ResponseTimer.Tr"/>.</value>
    public ResponseTimer Timer { get; set; } = ResponseTimer.Tr;
}

/// <summary>Creates the built-in windows and picks samples out of records.</summary>
internal static class ResponseTimeWindows
{
    /// <summary>Creates the window <paramref name="options"/> describe.</summary>
    /// <exception cref="ArgumentException">Unknown kind or unsupported combination (validated configuration never has one).</exception>
    public static IResponseTimeWindow Create(WindowOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Kind.ToLowerInvariant() switch
        {
            WindowKinds.Count => new CountWindow(options.Size, options.Statistic),
            WindowKinds.Time => new TimeWindow(options.Duration, options.Statistic, timeProvider),
            WindowKinds.Ewma when options.Statistic == WindowStatistic.Mean => new EwmaWindow(options.HalfLife, timeProvider),
            WindowKinds.Ewma => throw new ArgumentException("an ewma window reports only the mean", nameof(options)),
            _ => throw new ArgumentException($"unknown window kind '{options.Kind}' (use count, time or ewma)", nameof(options)),
        };
    }

    /// <summary>The sample a record gives for <paramref name="timer"/>, or -1 when that timer did not happen (or is not logged).</summary>
    public static int SampleOf(in RequestRecord record, ResponseTimer timer) => timer switch
    {
        ResponseTimer.Tr => record.ResponseTime,
        ResponseTimer.Ta => record.TotalTime,
        _ when record.QueueTime < 0 || record.ConnectTime < 0 || record.ResponseTime < 0 => -1,
        _ => record.QueueTime + record.ConnectTime + record.ResponseTime,
    } is var sample and >= 0 ? sample : -1;

    internal static double Percent(WindowStatistic statistic) => statistic switch
    {
        WindowStatistic.P50 => 50,
        WindowStatistic.P90 => 90,
        WindowStatistic.P95 => 95,
        WindowStatistic.P99 => 99,
        _ => 100,
    };
}
