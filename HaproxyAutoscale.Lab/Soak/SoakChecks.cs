using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>
/// The end of a soak, once the loads have stopped: waits for the daemon to have read everything (its line counter
/// still for a while), compares HAProxy's servers with what the daemon chose (settling for a few reconcile passes),
/// looks for provider processes the daemon has stopped but that still run, stops the daemon (SIGTERM), and reads its
/// log for the gaps between evaluations and the events that matter.
/// </summary>
internal sealed class SoakChecks(SoakOptions options, SoakDaemon daemon, IReadOnlyList<Haproxy> haproxies, ScriptedApps apps)
{
    private static readonly int[] EvaluationEvents = [2, 3, 22, 23, 49];

    // Events worth counting in the summary: id → name (ids from AutoscaleEventIds).
    private static readonly Dictionary<int, string> NotableEvents = new()
    {
        [2] = "decision", [5] = "action-failed", [8] = "reapplied", [9] = "reconcile-failed", [13] = "source-failed", [15] = "extension-failed",
        [21] = "counters-failed", [31] = "server-started", [32] = "server-stopped", [33] = "provider-failed", [41] = "sender-connected",
        [42] = "sender-disconnected", [43] = "malformed-stream", [44] = "too-many-connections", [70] = "reload-applied", [71] = "reload-rejected",
        [7] = "held-by-operator", [19] = "blind-started",
    };

    private static readonly string[] Running = ["starting", "warming", "active", "draining", "parked", "stopping"];

    public async Task<SoakResult> RunAsync(SoakSent sent, SoakFaults faults, List<ProcessSample> samples, Func<Task> sample)
    {
        Dictionary<string, long> lines = await QuiesceAsync().ConfigureAwait(false);
        IReadOnlyList<string> unchosen = await SettledStatesAsync().ConfigureAwait(false);
        Dictionary<(string Backend, string Server), string> lifecycles = await daemon.LifecyclesAsync().ConfigureAwait(false);
        int[] kept = [.. new[] { "s2", "s3" }.Where(s => Running.Contains(lifecycles.GetValueOrDefault(("app", s)))).Select(apps.PidOf).OfType<int>()];
        string[] leftovers = [.. apps.Running().Where(pid => !kept.Contains(pid)).Select(pid => string.Create(CultureInfo.InvariantCulture,
            $"pid {pid} (servers: {string.Join(", ", lifecycles.Where(l => l.Key.Backend == "app").Select(l => $"{l.Key.Server} {l.Value}"))})"))];
        await sample().ConfigureAwait(false);
        int exitCode = await daemon.StopAsync().ConfigureAwait(false);

        double from = options.WarmUp.TotalSeconds;
        ProcessSample[] warm = [.. samples.Where(s => s.Seconds >= from)];
        (Dictionary<string, TimeSpan> gaps, Dictionary<string, int> events) = ReadLog(Path.Combine(options.OutputDirectory, "daemon.log"));
        return new SoakResult
        {
            Sent = sent,
            Faults = faults,
            Lines = lines,
            RingFrames = sent.RingFrames(),
            RssSlopeMbPerHour = ProcessSample.SlopePerHour(samples, from, s => s.RssMb),
            FdSlopePerHour = ProcessSample.SlopePerHour(samples, from, s => s.Fds),
            GcHeapSlopeMbPerHour = ProcessSample.SlopePerHour(samples, from, s => s.GcHeapMb),
            RssAnonSlopeMbPerHour = ProcessSample.SlopePerHour(samples, from, s => s.RssAnonMb),
            RssFileSlopeMbPerHour = ProcessSample.SlopePerHour(samples, from, s => s.RssFileMb),
            RssShmemSlopeMbPerHour = ProcessSample.SlopePerHour(samples, from, s => s.RssShmemMb),
            ThreadsMin = samples.Count == 0 ? 0 : samples.Min(s => s.Threads),
            ThreadsMax = samples.Count == 0 ? 0 : samples.Max(s => s.Threads),
            FdsAfterWarmUp = warm.Length == 0 ? 0 : warm[0].Fds,
            FdsAtEnd = samples.Count == 0 ? 0 : samples[^1].Fds,
            CpuPercentMean = samples.Count < 2 ? 0 : (samples[^1].CpuSeconds - samples[0].CpuSeconds) / (samples[^1].Seconds - samples[0].Seconds) * 100,
            LongestEvaluationGap = gaps,
            Events = events,
            LeftoverProcesses = leftovers,
            ProcessesKept = kept.Length,
            UnchosenStates = unchosen,
            DaemonExitCode = exitCode,
        };
    }

    // Until the line counters have not moved for 3 s (60 s at most): what HAProxy's rings and the file still held is read.
    private async Task<Dictionary<string, long>> QuiesceAsync()
    {
        Dictionary<string, long> last = [];
        DateTime stillSince = DateTime.UtcNow, deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Dictionary<string, double>? metrics = await daemon.TryMetricsAsync().ConfigureAwait(false);
            Dictionary<string, long> now = metrics is null ? last : SoakDaemon.LineOutcomes(metrics);
            if (now.Count != last.Count || now.Any(o => last.GetValueOrDefault(o.Key) != o.Value))
            {
                stillSince = DateTime.UtcNow;
                last = now;
            }
            else if (DateTime.UtcNow - stillSince > TimeSpan.FromSeconds(3))
            {
                break;
            }

            await Task.Delay(250).ConfigureAwait(false);
        }

        return last;
    }

    // HAProxy's state of every configured server against the daemon's lifecycle; given a few reconcile passes to
    // settle (an action in flight, a reload just reapplied), what still differs is a state nobody chose.
    private async Task<IReadOnlyList<string>> SettledStatesAsync()
    {
        List<string> differences = [];
        DateTime deadline = DateTime.UtcNow + (options.ReconcileInterval * 4) + TimeSpan.FromSeconds(5);
        do
        {
            differences = await DifferencesAsync().ConfigureAwait(false);
            if (differences.Count == 0)
            {
                break;
            }

            await Task.Delay(500).ConfigureAwait(false);
        }
        while (DateTime.UtcNow < deadline);
        return differences;
    }

    private async Task<List<string>> DifferencesAsync()
    {
        Dictionary<(string Backend, string Server), string> lifecycles = await daemon.LifecyclesAsync().ConfigureAwait(false);
        List<string> differences = [];
        for (int i = 0; i < haproxies.Count; i++)
        {
            string[] stat;
            try
            {
                await using IHaproxyControl control = HaproxyControl.Create(haproxies[i].ReadySocket!);
                stat = (await control.ExecuteAsync("show stat -1 4 -1").ConfigureAwait(false)).Split('\n');
            }
            catch (HaproxyControlException e)
            {
                // An HAProxy gone by the end (2.6.12 crashed after ~100 reloads in a two-hour run): a finding of the
                // run, reported with the others, not a reason to lose its summary and plot.
                differences.Add($"haproxy {i}: not answering: {e.Message}");
                continue;
            }

            int statusColumn = Array.IndexOf(stat[0].TrimStart('#', ' ').Split(','), "status");
            foreach (string[] row in stat.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')))
            {
                string state = row[statusColumn] switch
                {
                    var s when s.StartsWith("MAINT", StringComparison.Ordinal) => "maint",
                    var s when s.StartsWith("DRAIN", StringComparison.Ordinal) => "drain",
                    _ => "ready",
                };
                string lifecycle = lifecycles.GetValueOrDefault((row[0], row[1]), "unknown");
                string chosen = lifecycle switch { "active" => "ready", "draining" => "drain", "held-by-operator" or "unknown" => "nobody", _ => "maint" };
                if (chosen != state)
                {
                    differences.Add(string.Create(CultureInfo.InvariantCulture, $"haproxy {i} {row[0]}/{row[1]}: {row[statusColumn]} while the daemon has it {lifecycle}"));
                }
            }
        }

        return differences;
    }

    // The daemon's JSON log: per backend the longest time between evaluations, and the notable events counted.
    private static (Dictionary<string, TimeSpan> Gaps, Dictionary<string, int> Events) ReadLog(string path)
    {
        var gaps = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        var lastSeen = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        var events = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path))
        {
            if (!line.StartsWith('{'))
            {
                Count(events, "non-json-output");
                continue;
            }

            using JsonDocument entry = JsonDocument.Parse(line);
            JsonElement root = entry.RootElement;
            int id = root.GetProperty("EventId").GetInt32();
            string level = root.GetProperty("LogLevel").GetString()!;
            if (level is "Warning" or "Error" or "Critical")
            {
                Count(events, level.ToLowerInvariant());
            }

            if (NotableEvents.TryGetValue(id, out string? name))
            {
                Count(events, name);
            }

            if (EvaluationEvents.Contains(id) && root.TryGetProperty("State", out JsonElement state) && state.TryGetProperty("Backend", out JsonElement backend))
            {
                DateTime at = DateTime.Parse(root.GetProperty("Timestamp").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);
                string name2 = backend.GetString()!;
                if (lastSeen.TryGetValue(name2, out DateTime previous) && at - previous > gaps.GetValueOrDefault(name2))
                {
                    gaps[name2] = at - previous;
                }

                lastSeen[name2] = at;
            }
        }

        return (gaps, events);
    }

    private static void Count(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;
}
