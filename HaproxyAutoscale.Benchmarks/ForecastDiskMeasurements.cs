using System.Diagnostics;
using System.Globalization;
using System.IO.Abstractions;
using HaproxyAutoscale.Forecasting;

namespace HaproxyAutoscale.Benchmarks;

/// <summary>
/// What the forecasts' demand history costs a fleet (<c>forecast-disk DIR BACKENDS</c>): every backend's file full
/// (14 days of minutes, written in the history file's own format), its size on disk, then the daemon's steady cost
/// (one evaluation pass that completes a minute for every backend: one flush) and its start (reading every file).
/// </summary>
internal static class ForecastDiskMeasurements
{
    public static void Run(string directory, int backends)
    {
        var fs = new FileSystem();
        var store = new DemandHistoryStore(fs, directory);
        fs.Directory.CreateDirectory(store.Directory);
        long now = DemandHistory.MinuteOf(DateTimeOffset.UtcNow);
        var full = new byte[DemandHistoryFile.MaxSize];
        DemandHistoryFile.WriteHeader(full);
        for (long minute = now - DemandHistory.Minutes + 1; minute <= now; minute++)
        {
            DemandHistoryFile.Encode(new DemandMinute(minute, (int)(minute % 7), minute % 13), full.AsSpan(DemandHistoryFile.HeaderSize + (DemandHistory.Slot(minute) * DemandHistoryFile.RecordSize)));
        }

        var fill = Stopwatch.StartNew();
        for (int b = 0; b < backends; b++)
        {
            File.WriteAllBytes(store.PathOf(Name(b)), full);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{backends} backends, 14 days each: {(long)backends * full.Length} bytes of files, written in {fill.Elapsed.TotalSeconds:0.0} s"));

        // One pass completing the next minute of every backend, as the evaluation loop's flush writes it.
        for (int b = 0; b < backends; b++)
        {
            store.Enqueue(Name(b), new DemandMinute(now + 1, 3, 2.5));
        }

        var flush = Stopwatch.StartNew();
        string? error = store.Flush();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"one minute for every backend (one flush): {flush.Elapsed.TotalMilliseconds:0} ms{(error is null ? "" : ", failed: " + error)}"));

        var read = Stopwatch.StartNew();
        long minutes = 0;
        for (int b = 0; b < backends; b++)
        {
            minutes += store.Load(Name(b), DateTimeOffset.FromUnixTimeSeconds((now + 1) * 60)).History.Count;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"reading every history (a start): {read.Elapsed.TotalSeconds:0.0} s, {minutes / backends} minutes each"));
    }

    private static string Name(int backend) => string.Create(CultureInfo.InvariantCulture, $"be{backend}");
}
