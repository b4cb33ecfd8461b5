using System.Text.Json;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary><c>replay</c> over generated logs: decisions happen at the log times the policy implies.</summary>
public sealed class ReplayTests
{
    private const string Config = """
        {
          "evaluationInterval": "1s",
          "backends": {
            "app1backend": {
              "window": { "kind": "count", "size": 15, "statistic": "mean" },
              "policy": { "kind": "threshold", "thresholdMs": 800, "breaches": 3, "idleScaleDown": "5m" },
              "servers": { "s1": { "alwaysUp": true }, "s2": {}, "s3": {} }
            }
          }
        }
        """;

    [Fact]
    public async Task Replay_LatencyStepThenSilence_DecidesAtTheExpectedLogTimes()
    {
        using var dir = new TempDirectory();
        string log = dir.File("step.log"), config = dir.File("config.json");
        await File.WriteAllTextAsync(config, Config);
        await using (var writer = new StreamWriter(log))
        {
            // 5 min fast at 5 req/s, 1 min at 1,500 ms, 12 min of silence, 1 min fast.
            LogGenerator.WritePhases(writer, new DateTime(2026, 11, 26, 15, 0, 0), "app1backend", "s1",
                (TimeSpan.FromMinutes(5), 5, 50), (TimeSpan.FromMinutes(1), 5, 1500), (TimeSpan.FromMinutes(12), 0, 0), (TimeSpan.FromMinutes(1), 5, 50));
        }

        var (exitCode, output, error) = await CliRunner.RunAsync("replay", log, "--config", config, "--json");
        exitCode.Should().Be(0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        JsonElement[] decisions = [.. lines[..^1].Select(l => JsonDocument.Parse(l).RootElement)];

        // The first slow sample is at 15:05:00.000; at 5 req/s the mean of the last 15 passes 800 ms with the 8th
        // slow sample, so the evaluations at :02, :03 and :04 are the three breaches. s2 settling (its samples are
        // left out) does not hold the next scale-up: three more breaches, :05 to :07, bring s3 at :07.
        // The last request is at 15:05:59.800: idle for 5 min at 15:11:00 (s3 goes), re-armed, 15:16:00 (s2 goes).
        decisions.Select(d => (d.GetProperty("time").GetString(), d.GetProperty("action").GetString(), d.GetProperty("server").GetString()))
            .Should().Equal(
                ("2026-11-26T15:05:04.000", "up", "s2"),
                ("2026-11-26T15:05:07.000", "up", "s3"),
                ("2026-11-26T15:11:00.000", "down", "s3"),
                ("2026-11-26T15:16:00.000", "down", "s2"));
        decisions[0].GetProperty("backend").GetString().Should().Be("app1backend");
        decisions[0].GetProperty("reason").GetString().Should().Be("1500 ms > 800 ms on 3 consecutive evaluations");
        decisions[0].GetProperty("value").GetDouble().Should().Be(1500);
        decisions[2].GetProperty("reason").GetString().Should().Be("no request for 5m 0.2s");

        JsonElement summary = JsonDocument.Parse(lines[^1]).RootElement.GetProperty("summary");
        summary.GetProperty("lines").GetInt64().Should().Be(2100);
        JsonElement backend = summary.GetProperty("backends")[0];
        (backend.GetProperty("ups").GetInt32(), backend.GetProperty("downs").GetInt32()).Should().Be((2, 2));
        backend.GetProperty("aboveThresholdSeconds").GetDouble().Should().Be(60, "59 slow evaluations plus the first after the silence, when the window still holds 10 slow samples");
        JsonElement enabled = backend.GetProperty("enabledSeconds");
        enabled.GetProperty("s2").GetDouble().Should().Be((11 * 60) - 4);   // 15:05:04 to 15:16:00
        enabled.GetProperty("s3").GetDouble().Should().Be((6 * 60) - 7);    // 15:05:07 to 15:11:00
    }

    [Fact]
    public async Task Replay_TextOutput_PrintsDecisionsAndSummary()
    {
        using var dir = new TempDirectory();
        string log = dir.File("step.log"), config = dir.File("config.json");
        await File.WriteAllTextAsync(config, Config);
        await using (var writer = new StreamWriter(log))
        {
            LogGenerator.WritePhases(writer, new DateTime(2026, 11, 26, 15, 0, 0), "app1backend", "s1", (TimeSpan.FromSeconds(30), 10, 1000));
        }

        var (exitCode, output, _) = await CliRunner.RunAsync("replay", log, "--config", config);
        exitCode.Should().Be(0);
        output.Should().Contain("2026-11-26T15:00:03.000  app1backend  up    s2  1000 ms > 800 ms on 3 consecutive evaluations (window 1000 ms)");
        output.Should().Contain("summary: 300 lines, 300 parsed");
    }

    [Fact]
    public async Task Replay_BadConfig_ListsEveryProblemAndExits2()
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, """{ "backends": { "b": { "policy": { "kind": "magic" }, "servers": { "s": { "weight": 0 } } } } }""");
        var (exitCode, output, error) = await CliRunner.RunAsync("replay", "/dev/null", "--config", config);
        exitCode.Should().Be(2);
        output.Should().BeEmpty();
        error.Should().Contain("has 2 problems")
            .And.Contain("backends.b.servers.s.weight: expected an integer from 1 to 256")
            .And.Contain("backends.b.policy.kind: unknown policy 'magic'");
    }

    [Fact]
    public async Task Replay_OneHourLog_ReplaysEveryLine()
    {
        // Bounded and not timed: an hour of log at 20 req/s replays; its speed is measured by the benchmarks.
        using var dir = new TempDirectory();
        string log = dir.File("hour.log"), config = dir.File("config.json");
        await File.WriteAllTextAsync(config, Config);
        await using (var writer = new StreamWriter(log))
        {
            LogGenerator.WritePhases(writer, new DateTime(2026, 11, 26, 15, 0, 0), "app1backend", "s1", (TimeSpan.FromHours(1), 20, 30));
        }

        var (exitCode, output, _) = await CliRunner.RunAsync("replay", log, "--config", config, "--json");
        exitCode.Should().Be(0);
        JsonDocument.Parse(output.Trim()).RootElement.GetProperty("summary").GetProperty("parsed").GetInt64()
            .Should().Be(72_000);
    }
}
