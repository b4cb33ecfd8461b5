using System.Globalization;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>
/// One sample of the daemon: seconds since the start, RSS and GC heap in MB, open descriptors, threads, CPU seconds
/// used so far, and the log lines it had read (and the rig had sent) by then. The RSS is also split as the kernel
/// counts it: anonymous (the GC's regions, native allocations, thread stacks), file-backed (the runtime's libraries
/// and assemblies, paged in as code runs) and shared memory (the runtime's executable memory: JIT-compiled code and
/// stubs live in its <c>memfd:doublemapper</c> mapping), so that a growth can be told apart.
/// </summary>
public sealed record ProcessSample(double Seconds, double RssMb, double GcHeapMb, int Fds, int Threads, double CpuSeconds, long LinesRead, long LinesSent)
{
    public const string CsvHeader = "seconds,rss_mb,gc_heap_mb,fds,threads,cpu_seconds,cpu_percent,lines_read,lines_sent,rss_anon_mb,rss_file_mb,rss_shmem_mb";

    /// <summary>The anonymous part of the RSS (MB).</summary>
    public double RssAnonMb { get; init; }

    /// <summary>The file-backed part of the RSS (MB).</summary>
    public double RssFileMb { get; init; }

    /// <summary>The shared-memory part of the RSS (MB): the runtime's executable memory (JIT code).</summary>
    public double RssShmemMb { get; init; }

    /// <summary>Reads /proc/<paramref name="pid"/> (status, stat, fd); the GC heap and lines come from the caller.</summary>
    public static ProcessSample Read(int pid, double seconds, double gcHeapMb, long linesRead, long linesSent)
    {
        string[] status = File.ReadAllLines($"/proc/{pid}/status");
        long Kb(string key) => long.Parse(status.First(l => l.StartsWith(key, StringComparison.Ordinal)).Split(' ', '\t').Where(p => p.Length > 0).ElementAt(1), CultureInfo.InvariantCulture);
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        double cpu = (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0; // utime + stime, 100 ticks/s
        int fds = Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;
        return new ProcessSample(seconds, Kb("VmRSS:") / 1024.0, gcHeapMb, fds, (int)Kb("Threads:"), cpu, linesRead, linesSent)
        {
            RssAnonMb = Kb("RssAnon:") / 1024.0,
            RssFileMb = Kb("RssFile:") / 1024.0,
            RssShmemMb = Kb("RssShmem:") / 1024.0,
        };
    }

    /// <summary>A CSV row; the CPU percent of one core is over the time since <paramref name="previous"/>.</summary>
    public string ToCsv(ProcessSample? previous) => string.Create(CultureInfo.InvariantCulture,
        $"{Seconds:0.0},{RssMb:0.00},{GcHeapMb:0.00},{Fds},{Threads},{CpuSeconds:0.00},{CpuPercent(previous):0.0},{LinesRead},{LinesSent},{RssAnonMb:0.00},{RssFileMb:0.00},{RssShmemMb:0.00}");

    /// <summary>Percent of one core used since <paramref name="previous"/> (0 for the first sample).</summary>
    public double CpuPercent(ProcessSample? previous) =>
        previous is null || Seconds <= previous.Seconds ? 0 : (CpuSeconds - previous.CpuSeconds) / (Seconds - previous.Seconds) * 100;

    /// <summary>The least-squares slope of <paramref name="value"/> per hour over the samples from <paramref name="from"/> seconds on (NaN with fewer than 2).</summary>
    public static double SlopePerHour(IReadOnlyList<ProcessSample> samples, double from, Func<ProcessSample, double> value)
    {
        ProcessSample[] kept = [.. samples.Where(s => s.Seconds >= from && !double.IsNaN(value(s)))]; // NaN: the metrics endpoint did not answer
        if (kept.Length < 2)
        {
            return double.NaN;
        }

        double meanX = kept.Average(s => s.Seconds), meanY = kept.Average(value);
        double covariance = kept.Sum(s => (s.Seconds - meanX) * (value(s) - meanY));
        double variance = kept.Sum(s => (s.Seconds - meanX) * (s.Seconds - meanX));
        return covariance / variance * 3600;
    }
}
