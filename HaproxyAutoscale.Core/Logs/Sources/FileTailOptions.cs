namespace HaproxyAutoscale.Logs;

/// <summary>Options of the file-tailing log source.</summary>
public sealed class FileTailOptions
{
    /// <summary>Whether to start at the current end of the file (skip history) rather than at its start.</summary>
    /// <value>The default is <see langword="true"/>, like <c>tail -F</c>.</value>
    public bool StartAtEnd { get; set; } = true;

    /// <summary>How often to look for new data and for rotation once the end of the file is reached.</summary>
    /// <value>The default is 250 milliseconds.</value>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Longer lines are skipped and counted as <see cref="LogSourceCounters.Oversized"/>.</summary>
    /// <value>The default is 65,536 bytes (HAProxy's largest log line).</value>
    public int MaxLineLength { get; set; } = LogSources.DefaultMaxLineLength;
}
