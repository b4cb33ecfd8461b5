using System.Globalization;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>What the rig sent: synthetic lines written (and refused), HTTP answers, HAProxy's own request count, and in file mode the lines written to the file and HAProxy's datagrams among them.</summary>
public sealed record SoakSent(long SyntheticLines, long SyntheticRefused, long HttpSucceeded, long HttpFailed, long HaproxyRequests, long? FileLines, long? Datagrams)
{
    /// <summary>Request log lines the daemon should count: the synthetic ones and one per HTTP exchange HAProxy answered.</summary>
    public long ExpectedRequestLines => SyntheticLines + HttpSucceeded + HttpFailed;

    /// <summary>TCP mode: the frames HAProxy's rings delivered, read when the daemon has read everything (the relay's count).</summary>
    public Func<long?> RingFrames { get; init; } = () => null;
}

/// <summary>The faults the schedule injected, and anything unexpected the rig saw on the way.</summary>
public sealed class SoakFaults
{
    private readonly List<string> _notes = [];
    private readonly List<(double Seconds, string Fault)> _schedule = [];

    public int HaproxyReloads { get; set; }

    public int AdminOutages { get; set; }

    public int DaemonReloads { get; set; }

    public int Rotations { get; set; }

    public IReadOnlyList<string> Notes => _notes;

    /// <summary>Every fault injected, with when (seconds since the start): faults.csv, to line the samples up with.</summary>
    public IReadOnlyList<(double Seconds, string Fault)> Schedule => _schedule;

    public void Injected(TimeSpan at, string fault) => _schedule.Add((at.TotalSeconds, fault));

    public void Note(TimeSpan at, string what) => _notes.Add(string.Create(CultureInfo.InvariantCulture, $"{at.TotalSeconds:0}s: {what}"));
}

/// <summary>A soak's outcome: the accounting, the trends, the gaps, and what the end found.</summary>
public sealed class SoakResult
{
    public required SoakSent Sent { get; init; }

    public required SoakFaults Faults { get; init; }

    /// <summary>The daemon's <c>log_lines</c> by outcome at the end.</summary>
    public required IReadOnlyDictionary<string, long> Lines { get; init; }

    /// <summary>TCP mode: the frames the rings delivered to the daemon's port, counted by a relay in front of it.</summary>
    public long? RingFrames { get; init; }

    /// <summary>Request lines the daemon parsed (read − unparsed) minus the lines expected: 0 when every line is accounted for.</summary>
    public long RequestLinesDifference => Lines.GetValueOrDefault("read") - Lines.GetValueOrDefault("unparsed") - Sent.ExpectedRequestLines;

    /// <summary>File mode: lines the daemon read minus the lines written to the file (0: every line read).</summary>
    public long? FileLinesDifference => Sent.FileLines is { } written ? Lines.GetValueOrDefault("read") - written : null;

    public double RssSlopeMbPerHour { get; init; }

    public double FdSlopePerHour { get; init; }

    public double GcHeapSlopeMbPerHour { get; init; }

    /// <summary>The slopes of the RSS's anonymous, file-backed and shared-memory (JIT code) parts, MB/h.</summary>
    public double RssAnonSlopeMbPerHour { get; init; }

    public double RssFileSlopeMbPerHour { get; init; }

    public double RssShmemSlopeMbPerHour { get; init; }

    public int ThreadsMin { get; init; }

    public int ThreadsMax { get; init; }

    /// <summary>Open descriptors at the first sample after the warm-up, and at the end.</summary>
    public int FdsAfterWarmUp { get; init; }

    public int FdsAtEnd { get; init; }

    public double CpuPercentMean { get; init; }

    /// <summary>Per backend, the longest time between two evaluations (events 2, 3, 22, 23, 49 in the daemon's log).</summary>
    public required IReadOnlyDictionary<string, TimeSpan> LongestEvaluationGap { get; init; }

    /// <summary>Counts of the daemon's notable log events by id (reloads, reapplies, provider failures…) and of its warnings and errors.</summary>
    public required IReadOnlyDictionary<string, int> Events { get; init; }

    /// <summary>App processes started by the provider still running at the end for a server the daemon has stopped (none allowed).</summary>
    public required IReadOnlyList<string> LeftoverProcesses { get; init; }

    /// <summary>Provider app processes running at the end for servers the daemon keeps (active, parked, draining…).</summary>
    public int ProcessesKept { get; init; }

    /// <summary>Servers whose HAProxy state differs from what the daemon chose, after the settling time (none allowed).</summary>
    public required IReadOnlyList<string> UnchosenStates { get; init; }

    public int DaemonExitCode { get; init; }
}
