using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// What <c>run</c> writes for log shippers, from the CLI as a child process (TZ and JOURNAL_STREAM are read at start):
/// JSON stamped in UTC whatever TZ says, and under journald a syslog priority before each line.
/// </summary>
public sealed partial class RunLogFormatTests
{
    // No HAProxy behind the endpoint: the daemon starts, says so (Information) and warns that it cannot read state.
    private const string Config = """
        { "haproxy": { "endpoints": ["/nonexistent/admin.sock"] }, "logs": { "source": "udp@127.0.0.1:0" },
          "backends": { "app": { "servers": { "s1": {} } } } }
        """;

    [Fact]
    public async Task Json_InTokyo_StampsUtcIso8601WithZAndNoPadding()
    {
        string[] lines = await RunUntilAsync(["--log-format", "json"], new() { ["TZ"] = "Asia/Tokyo", ["JOURNAL_STREAM"] = null }, lines => lines.Count >= 2);

        foreach (string line in lines.Take(2))
        {
            using var json = JsonDocument.Parse(line);
            string stamp = json.RootElement.GetProperty("Timestamp").GetString()!;
            UtcStamp().IsMatch(stamp).Should().BeTrue($"'{stamp}' is yyyy-MM-ddTHH:mm:ss.fffZ");
            DateTime at = DateTime.ParseExact(stamp, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            (DateTime.UtcNow - at).Duration().Should().BeLessThan(TimeSpan.FromMinutes(5), "UTC, not Tokyo's +09:00");
        }
    }

    [Fact]
    public async Task Json_UnderJournald_EachLineStartsWithItsPriority()
    {
        string[] lines = await RunUntilAsync(["--log-format", "json"], new() { ["JOURNAL_STREAM"] = "8:12345" },
            lines => lines.Any(l => l.StartsWith("<4>", StringComparison.Ordinal)));

        foreach (string line in lines)
        {
            line.Should().MatchRegex("^<[0-7]>\\{");
            string level = JsonDocument.Parse(line[3..]).RootElement.GetProperty("LogLevel").GetString()!;
            line[..3].Should().Be(level switch { "Information" => "<6>", "Warning" => "<4>", "Error" => "<3>", "Critical" => "<2>", _ => "<7>" }, line);
        }

        lines[0].Should().StartWith("<6>{");
    }

    [Fact]
    public async Task Text_UnderJournald_PriorityPrefixAndNoTimestamp()
    {
        string[] lines = await RunUntilAsync([], new() { ["JOURNAL_STREAM"] = "8:12345" },
            lines => lines.Any(l => l.StartsWith("<4>", StringComparison.Ordinal)));

        lines[0].Should().StartWith("<6>HaproxyAutoscale[1] Autoscaling 1 backend(s)");
        lines.Should().Contain(l => l.StartsWith("<4>HaproxyAutoscale[", StringComparison.Ordinal) && l.Contains("/nonexistent/admin.sock", StringComparison.Ordinal));
    }

    // Runs 'run --config' until its standard output satisfies done (60 s at most), then kills it by PID.
    private static async Task<string[]> RunUntilAsync(string[] args, Dictionary<string, string?> environment, Func<IReadOnlyList<string>, bool> done)
    {
        using var dir = new TempDirectory();
        await File.WriteAllTextAsync(dir.File("config.json"), Config);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[Path.Combine(AppContext.BaseDirectory, "haproxy-autoscale.dll"), "run", "--config", dir.File("config.json"), .. args])
        {
            start.ArgumentList.Add(arg);
        }

        foreach ((string name, string? value) in environment)
        {
            start.Environment[name] = value;
        }

        var lines = new List<string>();
        using Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 })
            {
                lock (lines)
                {
                    lines.Add(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        try
        {
            await Poll.UntilAsync(
                () =>
                {
                    lock (lines)
                    {
                        return done(lines) || process.HasExited;
                    }
                },
                TimeSpan.FromSeconds(60),
                "the daemon's log lines");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
        }

        lock (lines)
        {
            done(lines).Should().BeTrue($"the daemon exited early with {process.ExitCode}:\n{string.Join('\n', lines)}{process.StandardError.ReadToEnd()}");
            return [.. lines];
        }
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex UtcStamp();
}
