using System.Globalization;
using System.Text;
using System.Text.Json;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary><c>simulate</c> and <c>tune</c> through the CLI, on a generated log of a load step.</summary>
public sealed class SimulateCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public SimulateCommandTests()
    {
        // 20 requests/s for 2 minutes, 180 requests/s for 4 minutes, 20 for 2 minutes; 30–70 ms on one server.
        var log = new StringBuilder();
        var random = new Random(1);
        var start = new DateTime(2026, 11, 27, 12, 0, 0, DateTimeKind.Utc);
        for (double t = 0; t < 480;)
        {
            t += -Math.Log(1 - random.NextDouble()) / (t is >= 120 and < 360 ? 180 : 20);
            DateTime at = start.AddSeconds(t);
            int tr = random.Next(30, 71);
            log.Append(CultureInfo.InvariantCulture, $"{at:MMM dd HH:mm:ss} lb1 haproxy[1]: 127.0.0.1:40000 [{at:dd/MMM/yyyy:HH:mm:ss.fff}] fe app/s1 0/0/0/{tr}/{tr + 1} 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n");
        }

        File.WriteAllText(Log, log.ToString());
        File.WriteAllText(Config, """
            { "haproxy": { "endpoints": ["/run/haproxy/admin.sock"] },
              "backends": { "app": { "policy": { "kind": "threshold", "thresholdMs": 100, "breaches": 2 }, "settleTime": "2s",
                "servers": { "s1": { "alwaysUp": true }, "s2": { "warmupUrl": "http://127.0.0.1:1/" }, "s3": { "warmupUrl": "http://127.0.0.1:1/" }, "s4": {} } } } }
            """);
    }

    private string Log => _dir.File("step.log");

    private string Config => _dir.File("config.json");

    [Fact]
    public async Task Simulate_Fit_PrintsTheModel_ThenSimulateWithIt_PolicyBetweenOneAndFourStaticServers()
    {
        (int fitExit, string modelJson, _) = await CliRunner.RunAsync("simulate", Log, "--fit");
        fitExit.Should().Be(0);
        // The log never shows concurrency (srv_conn is 0 on every line): give the servers 4 workers and a cold start.
        using (JsonDocument fitted = JsonDocument.Parse(modelJson))
        {
            JsonElement app = fitted.RootElement.GetProperty("backends")[0];
            app.GetProperty("backend").GetString().Should().Be("app");
            app.GetProperty("serviceTimeQuantilesMs")[50].GetDouble().Should().BeInRange(45, 55);
        }

        string model = _dir.File("model.json");
        await File.WriteAllTextAsync(model, modelJson.Replace("\"workers\": 1", "\"workers\": 4", StringComparison.Ordinal).Replace("\"coldStartMs\": 0", "\"coldStartMs\": 1500", StringComparison.Ordinal));

        JsonElement policy = await SimulateAsync("--model", model, "--timeline", _dir.File("timeline.csv"));
        JsonElement one = await SimulateAsync("--model", model, "--static", "1");
        JsonElement four = await SimulateAsync("--model", model, "--static", "4");

        policy.GetProperty("policy").GetString().Should().Be("threshold");
        policy.GetProperty("requests").GetInt64().Should().Be(four.GetProperty("requests").GetInt64());
        policy.GetProperty("requestsOverSlo").GetDouble().Should().BeLessThan(one.GetProperty("requestsOverSlo").GetDouble());
        policy.GetProperty("serverSeconds").GetDouble().Should().BeLessThan(four.GetProperty("serverSeconds").GetDouble());
        policy.GetProperty("userColdStarts").GetInt64().Should().BeGreaterThan(0, "s4 has no warm-up URL: its first users pay the cold start");
        foreach (string key in new[] { "sloMs", "p50Ms", "p95Ms", "p99Ms", "violationSeconds", "oracleServerSeconds", "flaps", "instability" })
        {
            policy.TryGetProperty(key, out _).Should().BeTrue(key);
        }

        policy.GetProperty("underProvisioning").GetProperty("timeshare").GetDouble().Should().BeInRange(0, 1);
        string[] timeline = await File.ReadAllLinesAsync(_dir.File("timeline.csv"));
        timeline[0].Should().Be("time,backend,arrivals,active,oracle,p95Ms");
        timeline.Length.Should().BeInRange(470, 490, "one row per second of the 8-minute log");
        timeline.Skip(1).Sum(row => int.Parse(row.Split(',')[2], CultureInfo.InvariantCulture)).Should().Be((int)policy.GetProperty("requests").GetInt64());
    }

    [Fact]
    public async Task Tune_FindsACheaperSettingWithinTheBudget_AndPrintsItAsConfiguration()
    {
        string model = _dir.File("model.json");
        (_, string fitted, _) = await CliRunner.RunAsync("simulate", Log, "--fit");
        await File.WriteAllTextAsync(model, fitted.Replace("\"workers\": 1", "\"workers\": 4", StringComparison.Ordinal));

        (int exit, string output, string error) = await CliRunner.RunAsync("tune", Log, "--config", Config, "--model", model, "--backend", "app", "--budget", "2%", "--json");
        exit.Should().Be(0, error);
        using JsonDocument result = JsonDocument.Parse(output);
        result.RootElement.GetProperty("evaluated").GetInt32().Should().Be(144);
        JsonElement recommended = result.RootElement.GetProperty("recommended");
        recommended.GetProperty("policy").GetProperty("kind").GetString().Should().Be("threshold");
        recommended.GetProperty("window").GetProperty("kind").GetString().Should().Be("count");
        JsonElement front = result.RootElement.GetProperty("paretoFront");
        front.GetArrayLength().Should().BeGreaterThan(0);
        front.EnumerateArray().Select(f => f.GetProperty("result").GetProperty("serverSeconds").GetDouble()).Should().BeInAscendingOrder();
    }

    [Fact]
    public async Task Simulate_TcplogOnly_SaysWhichHaproxyOptionTheFitNeeds()
    {
        string tcp = _dir.File("tcp.log");
        await File.WriteAllTextAsync(tcp, "Nov 27 12:00:00 lb1 haproxy[1]: 127.0.0.1:40000 [27/Nov/2026:12:00:00.000] fe app/s1 0/0/5 120 -- 1/1/0/0/0 0/0\n");
        (int exit, string output, string error) = await CliRunner.RunAsync("simulate", tcp, "--config", Config);
        exit.Should().Be(1);
        output.Should().BeEmpty();
        error.Should().Contain("app").And.Contain("option httplog");
    }

    [Fact]
    public async Task Simulate_WithoutConfig_IsAUsageError()
    {
        (int exit, _, string error) = await CliRunner.RunAsync("simulate", Log);
        exit.Should().Be(2);
        error.Trim().Should().Be("error: --config: required (only --fit works without a configuration)");
    }

    [Fact]
    public async Task Simulate_EvaluationPhase_WithinTheIntervalIsTaken_BeyondItIsAUsageError()
    {
        JsonElement phased = await SimulateAsync("--evaluation-phase", "300ms");
        phased.GetProperty("requests").GetInt64().Should().BeGreaterThan(0);

        (int exit, _, string error) = await CliRunner.RunAsync("simulate", Log, "--config", Config, "--evaluation-phase", "2s");
        exit.Should().Be(2);
        error.Trim().Should().StartWith("error: --evaluation-phase: '2s' is not a duration from 0 to the evaluation interval");
    }

    [Fact]
    public async Task Simulate_BackendThatMayGoToZero_HoldFlags_ReportHeldRequestsTheirWait503sAndSecondsAtZero()
    {
        // Two bursts of 50 (at one instant) three minutes apart onto a backend with minActive 0 and a provider.
        var log = new StringBuilder();
        var start = new DateTime(2026, 12, 6, 12, 0, 0, DateTimeKind.Utc);
        foreach (DateTime at in new[] { start, start.AddMinutes(3) })
        {
            for (int i = 0; i < 50; i++)
            {
                log.Append(CultureInfo.InvariantCulture, $"{at:MMM dd HH:mm:ss} lb1 haproxy[1]: 127.0.0.1:40000 [{at:dd/MMM/yyyy:HH:mm:ss.fff}] fe lazy/l1 0/0/0/50/51 200 512 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\"\n");
            }
        }

        string burstLog = _dir.File("bursts.log");
        string config = _dir.File("zero.json");
        await File.WriteAllTextAsync(burstLog, log.ToString());
        await File.WriteAllTextAsync(config, """
            { "haproxy": { "endpoints": ["/run/haproxy/admin.sock"] },
              "backends": { "lazy": { "policy": { "kind": "threshold", "thresholdMs": 100, "idleScaleDown": "1m" }, "minActive": 0,
                "provider": { "kind": "exec", "start": ["start", "{server}"], "stop": ["stop", "{server}"], "keepWarm": "30s" },
                "servers": { "l1": { "warmupUrl": "http://127.0.0.1:1/" }, "l2": { "warmupUrl": "http://127.0.0.1:1/" } } } } }
            """);
        string[] common = ["simulate", burstLog, "--config", config, "--cold-start", "1s", "--provider-start", "2s"];

        (int exit, string output, string error) = await CliRunner.RunAsync([.. common, "--json"]);
        exit.Should().Be(0, error);
        using (JsonDocument document = JsonDocument.Parse(output))
        {
            JsonElement zero = document.RootElement.GetProperty("backends")[0].GetProperty("scaleToZero");
            (zero.GetProperty("held").GetInt64(), zero.GetProperty("pastDeadline").GetInt64(), zero.GetProperty("wakes").GetInt64()).Should().Be((100L, 0L, 2L));
            (zero.GetProperty("heldP50Ms").GetInt32(), zero.GetProperty("heldMaxMs").GetInt32(), zero.GetProperty("wakeToReadyP50Ms").GetInt32())
                .Should().Be((3000, 3000, 3000), "provider start 2 s + warm-up 1 s");
            zero.GetProperty("zeroSeconds").GetDouble().Should().BeInRange(110, 120);
        }

        (exit, output, error) = await CliRunner.RunAsync([.. common, "--hold-deadline", "1s", "--json"]);
        exit.Should().Be(0, error);
        using (JsonDocument document = JsonDocument.Parse(output))
        {
            document.RootElement.GetProperty("backends")[0].GetProperty("scaleToZero").GetProperty("pastDeadline").GetInt64().Should().Be(100, "1 s of hold, 3 s to a usable server");
        }

        (exit, output, _) = await CliRunner.RunAsync([.. common]);
        exit.Should().Be(0);
        output.Should().Contain("HOLDS").And.Contain("HOLD WAIT p50/p95/max").And.Contain("HOLD 503").And.Contain("ZERO-S").And.Contain("3000 ms/3000 ms/3000 ms");

        (exit, output, error) = await CliRunner.RunAsync("tune", burstLog, "--config", config, "--cold-start", "1s", "--provider-start", "2s", "--hold-deadline", "2s",
            "--backend", "lazy", "--budget", "100%", "--json");
        exit.Should().Be(1, "every setting loses the held requests to a 2 s deadline: none is within the default deadline budget of 0");
        using (JsonDocument document = JsonDocument.Parse(output))
        {
            document.RootElement.GetProperty("deadlineBudget").GetDouble().Should().Be(0);
            document.RootElement.GetProperty("recommended").ValueKind.Should().Be(JsonValueKind.Null);
        }

        (exit, output, error) = await CliRunner.RunAsync("tune", burstLog, "--config", config, "--cold-start", "1s", "--provider-start", "2s", "--backend", "lazy", "--budget", "100%");
        exit.Should().Be(0, error);
        output.Should().Contain("HOLD 503").And.Contain("and at most 0% answered 503 past the hold deadline");
    }

    [Fact]
    public async Task Simulate_BackendThatCannotGoToZero_TableAndJsonHaveNoScaleToZeroFigures()
    {
        (int exit, string output, _) = await CliRunner.RunAsync("simulate", Log, "--config", Config);
        exit.Should().Be(0);
        output.Should().NotContain("HOLDS").And.NotContain("ZERO-S");
        (await SimulateAsync()).TryGetProperty("scaleToZero", out _).Should().BeFalse();
    }

    public void Dispose() => _dir.Dispose();

    private async Task<JsonElement> SimulateAsync(params string[] args)
    {
        (int exit, string output, string error) = await CliRunner.RunAsync(["simulate", Log, "--config", Config, "--json", .. args]);
        exit.Should().Be(0, error);
        using JsonDocument document = JsonDocument.Parse(output);
        return document.RootElement.GetProperty("backends")[0].Clone();
    }
}
