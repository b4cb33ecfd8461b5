using System.Globalization;
using System.Text;

namespace HaproxyAutoscale.Lab.Soak;

/// <summary>Writes a soak's samples.csv, summary.txt and soak.svg (RSS, open descriptors and CPU over time, one panel each).</summary>
public static class SoakReport
{
    public static async Task WriteAsync(SoakOptions options, SoakResult result, IReadOnlyList<ProcessSample> samples)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(samples);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "faults.csv"),
            "seconds,fault\n" + string.Concat(result.Faults.Schedule.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Seconds:0.0},{f.Fault}\n")))).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "summary.txt"), Summary(options, result)).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(options.OutputDirectory, "soak.svg"), Svg(options, samples)).ConfigureAwait(false);
    }

    public static string Summary(SoakOptions options, SoakResult result)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        void Line(FormattableString line) => text.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');
        SoakSent sent = result.Sent;
        Line($"mode {options.Mode.ToString().ToLowerInvariant()}, {options.Duration.TotalMinutes:0.#} min, {options.LinesPerSecond} synthetic lines/s, samples every {options.SampleEvery.TotalSeconds:0.#} s, slopes after {options.WarmUp.TotalMinutes:0.#} min");
        Line($"faults: {result.Faults.HaproxyReloads} HAProxy reloads, {result.Faults.AdminOutages} admin outages of {options.AdminOutage.TotalSeconds:0} s, {result.Faults.DaemonReloads} daemon reloads (SIGHUP), {result.Faults.Rotations} logrotate runs, provider start fails 1 in {options.ProviderFailsOneIn}");
        Line($"sent: {sent.SyntheticLines} synthetic lines ({sent.SyntheticRefused} refused by a closed connection, not sent), HTTP answers {sent.HttpSucceeded} ok + {sent.HttpFailed} failed, HAProxy frontend req_tot {sent.HaproxyRequests} (summed over workers; a reload's last requests may be missed)");
        if (sent.FileLines is { } fileLines)
        {
            Line($"file: {fileLines} lines written ({sent.Datagrams} HAProxy datagrams among them); daemon read - written = {result.FileLinesDifference}");
        }

        Line($"daemon log_lines: {string.Join(", ", result.Lines.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key} {l.Value}"))}");
        Line($"request lines: parsed (read - unparsed) - expected (synthetic + HTTP answers) = {result.RequestLinesDifference}");
        if (result.RingFrames is { } frames)
        {
            Line($"rings: {frames} frames delivered to the daemon's port (a relay counts them); daemon read - delivered = {result.Lines.GetValueOrDefault("read") - frames}; delivered - unparsed - expected = {frames - result.Lines.GetValueOrDefault("unparsed") - sent.ExpectedRequestLines} (lost before the rings' output when negative)");
        }

        Line($"RSS slope {result.RssSlopeMbPerHour:0.00} MB/h, GC heap slope {result.GcHeapSlopeMbPerHour:0.00} MB/h, fd slope {result.FdSlopePerHour:0.00} /h (fds {result.FdsAfterWarmUp} after warm-up, {result.FdsAtEnd} at the end), threads {result.ThreadsMin}..{result.ThreadsMax}, CPU mean {result.CpuPercentMean:0.0} % of one core");
        Line($"RSS parts' slopes: anonymous {result.RssAnonSlopeMbPerHour:0.00} MB/h, file-backed {result.RssFileSlopeMbPerHour:0.00} MB/h, shared (JIT code) {result.RssShmemSlopeMbPerHour:0.00} MB/h");
        Line($"longest gap between evaluations: {string.Join(", ", result.LongestEvaluationGap.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Value.TotalSeconds:0.00} s"))}");
        Line($"daemon events: {string.Join(", ", result.Events.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key} {e.Value}"))}");
        Line($"provider processes left behind: {(result.LeftoverProcesses.Count == 0 ? "none" : string.Join("; ", result.LeftoverProcesses))} ({result.ProcessesKept} running for servers the daemon keeps)");
        Line($"servers in a state nobody chose: {(result.UnchosenStates.Count == 0 ? "none" : string.Join("; ", result.UnchosenStates))}");
        Line($"daemon exit code after SIGTERM: {result.DaemonExitCode}");
        foreach (string note in result.Faults.Notes)
        {
            Line($"note: {note}");
        }

        return text.ToString();
    }

    /// <summary>Three stacked panels sharing the time axis (minutes): RSS (MB), open fds, CPU (% of one core).</summary>
    public static string Svg(SoakOptions options, IReadOnlyList<ProcessSample> samples)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(samples);
        const int Width = 760, PanelHeight = 150, Left = 60, Right = 20, Top = 30, Gap = 40;
        (string Title, string Color, Func<int, double> Value)[] panels =
        [
            ("RSS (MB)", "#1f77b4", i => samples[i].RssMb),
            ("open file descriptors", "#2ca02c", i => samples[i].Fds),
            ("CPU (% of one core, shared machine)", "#d62728", i => samples[i].CpuPercent(i == 0 ? null : samples[i - 1])),
        ];
        double maxSeconds = Math.Max(1, samples.Count == 0 ? 1 : samples[^1].Seconds);
        int height = Top + (panels.Length * (PanelHeight + Gap)) + 10;
        var svg = new StringBuilder();
        void Add(FormattableString part) => svg.Append(part.ToString(CultureInfo.InvariantCulture)).Append('\n');
        Add($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"11\">");
        Add($"<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        Add($"<text x=\"{Left}\" y=\"18\" font-size=\"13\">haproxy-autoscale soak, {options.Mode.ToString().ToLowerInvariant()} mode, {options.Duration.TotalMinutes:0.#} min (x: minutes)</text>");
        for (int p = 0; p < panels.Length; p++)
        {
            int y0 = Top + (p * (PanelHeight + Gap)) + 15;
            double[] values = [.. Enumerable.Range(0, samples.Count).Select(panels[p].Value)];
            double max = values.Length == 0 ? 1 : Math.Max(1, values.Max() * 1.1);
            Add($"<text x=\"{Left}\" y=\"{y0 - 4}\" font-weight=\"bold\">{panels[p].Title}</text>");
            Add($"<rect x=\"{Left}\" y=\"{y0}\" width=\"{Width - Left - Right}\" height=\"{PanelHeight}\" fill=\"none\" stroke=\"#999\"/>");
            for (int tick = 0; tick <= 4; tick++)
            {
                double value = max * tick / 4;
                double y = y0 + PanelHeight - (PanelHeight * tick / 4.0);
                Add($"<text x=\"{Left - 5}\" y=\"{y + 4:0.#}\" text-anchor=\"end\">{value:0.#}</text>");
                Add($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#eee\"/>");
            }

            for (int tick = 0; tick <= 6; tick++)
            {
                double x = Left + ((Width - Left - Right) * tick / 6.0);
                Add($"<text x=\"{x:0.#}\" y=\"{y0 + PanelHeight + 13}\" text-anchor=\"middle\">{maxSeconds / 60 * tick / 6:0.#}</text>");
            }

            string points = string.Join(' ', values.Select((v, i) => string.Create(CultureInfo.InvariantCulture,
                $"{Left + ((Width - Left - Right) * samples[i].Seconds / maxSeconds):0.#},{y0 + PanelHeight - (PanelHeight * v / max):0.#}")));
            Add($"<polyline fill=\"none\" stroke=\"{panels[p].Color}\" stroke-width=\"1.5\" points=\"{points}\"/>");
        }

        Add($"</svg>");
        return svg.ToString();
    }
}
