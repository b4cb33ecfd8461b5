using System.Text.Json;
using HaproxyAutoscale.Tests.Infrastructure;
using HaproxyAutoscale.Tests.Logs;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// A fleet of two real HAProxy forwarding their logs through <c>ring</c> sections to one <c>run</c> daemon's TCP
/// source: the backend's one window holds both instances' requests, coverage is counted over both, and
/// <c>status --fleet</c> shows each instance (and one that cannot be reached).
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class FleetStatusTests
{
    [Fact]
    public async Task Run_TwoHaproxyRingsIntoTcpSource_OneWindowCoverageOverBothAndFleetStatusPerInstance()
    {
        const int RequestsEach = 30;
        using var dir = new TempDirectory();
        using var dir1 = new TempDirectory();
        using var dir2 = new TempDirectory();
        await using var app = AppServers.Plain();
        int logPort = Ports.FreeTcp(), http1 = Ports.FreeTcp(), http2 = Ports.FreeTcp();
        HaproxyConfig Config(TempDirectory at, int http, string framing) =>
            TcpLogSourceTests.RingConfig(at, logPort, http, app.Port, framing, new("s1", app.Port), new("s2", app.Port) { Disabled = true });
        await using Haproxy first = await Haproxy.StartAsync(Config(dir1, http1, "log-proto octet-count"), dir1);
        await using Haproxy second = await Haproxy.StartAsync(Config(dir2, http2, ""), dir2);

        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "haproxy": { "endpoints": ["{{dir1.File("admin.sock")}}", "{{dir2.File("admin.sock")}}"] },
              "logs": { "source": "tcp@127.0.0.1:{{logPort}}" },
              "evaluationInterval": "200ms", "counterInterval": "5s",
              "backends": { "app": { "policy": { "kind": "threshold", "thresholdMs": 100000 },
                                     "window": { "kind": "count", "size": 1000 },
                                     "servers": { "s1": { "alwaysUp": true }, "s2": {} } } } }
            """);
        string admin = "unix:" + dir.File("ctl.sock");
        await using var daemon = CliProcess.Start("run", "--config", config, "--admin", admin);
        await Poll.UntilAsync(() => File.Exists(dir.File("ctl.sock")) || daemon.HasExited, TimeSpan.FromSeconds(20), "the admin socket");
        daemon.HasExited.Should().BeFalse(daemon.Output);
        // HAProxy retries its ring's connection on its own; both are in once the source shows two connections.
        await Poll.UntilAsync(() => Fleet(admin, dir1, dir2).GetProperty("logSenders") is { ValueKind: JsonValueKind.Array } s && s.GetArrayLength() == 1
            && s[0].GetProperty("connections").GetInt32() == 2, TimeSpan.FromSeconds(30), "both rings connected");

        using var http = new HttpClient();
        for (int i = 0; i < RequestsEach; i++)
        {
            (await http.GetAsync(new Uri($"http://127.0.0.1:{http1}/"))).EnsureSuccessStatusCode();
            (await http.GetAsync(new Uri($"http://127.0.0.1:{http2}/"))).EnsureSuccessStatusCode();
        }

        // One window for the backend, fed by both instances; coverage is logged over counted, summed over both
        // (half the lines would read 0.5 and turn the backend blind). Coverage spans the last two counter intervals
        // (5 s each here, so each `explain` below, a new process, has time to see it on a loaded machine); a reading
        // taken while requests run may count one that is not logged yet, so the poll waits for the reading that spans
        // all of them: logged equals counted.
        JsonElement backend = default;
        await Poll.UntilAsync(
            () => (backend = Explain(admin)).GetProperty("window").GetProperty("samples").GetInt32() == 2 * RequestsEach
                && backend.GetProperty("coverage") is { ValueKind: JsonValueKind.Number } c && c.GetDouble() is >= 0.99 and <= 1.01,
            TimeSpan.FromSeconds(60), $"{2 * RequestsEach} samples in app's window and full coverage over both instances");
        backend.GetProperty("blind").GetBoolean().Should().BeFalse();

        JsonElement fleet = Fleet(admin, dir1, dir2);
        JsonElement[] instances = [.. fleet.GetProperty("instances").EnumerateArray()];
        instances.Select(i => i.GetProperty("pid").GetInt32()).Should().Equal(first.Pid, second.Pid);
        instances.Should().OnlyContain(i => i.GetProperty("reachable").GetBoolean()
            && i.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("backend").GetString() == "app").GetProperty("requests").GetInt64() == RequestsEach);
        fleet.GetProperty("logSenders")[0].GetProperty("lines").GetInt64().Should().BeGreaterThanOrEqualTo(2 * RequestsEach);

        // The table, with a third instance that cannot be reached: its own row, a message, exit code 1.
        var (code, output, error) = await CliProcess.RunAsync("status", "--fleet", "--admin", admin, "--backend", "app",
            "--endpoint", dir1.File("admin.sock"), "--endpoint", dir2.File("admin.sock"), "--endpoint", dir.File("gone.sock"));
        code.Should().Be(1);
        string[] lines = output.Split('\n');
        lines[0].Should().MatchRegex(@"^ENDPOINT\s+REACHABLE\s+PID\s+UPTIME\s+LOG_LINES\s+REQUESTS$");
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{dir1.File("admin.sock")}\s+yes\s+{first.Pid}\s+\d+m\d+s\s+-\s+app {RequestsEach}$"));
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{dir2.File("admin.sock")}\s+yes\s+{second.Pid}\s+\d+m\d+s\s+-\s+app {RequestsEach}$"));
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{dir.File("gone.sock")}\s+no\s+-\s+-\s+-\s+-$"));
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^LOG_SENDER\s+CONNECTIONS\s+LINES\s+OVERSIZED\s+MALFORMED$"));
        lines.Should().Contain(l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^127\.0\.0\.1\s+2\s+{2 * RequestsEach}\s+0\s+0$"));
        error.Should().Contain("gone.sock");
    }

    private static JsonElement Fleet(string admin, TempDirectory dir1, TempDirectory dir2)
    {
        var (code, output, error) = CliProcess.RunAsync("status", "--fleet", "--json", "--admin", admin,
            "--endpoint", dir1.File("admin.sock"), "--endpoint", dir2.File("admin.sock")).GetAwaiter().GetResult();
        code.Should().Be(0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    private static JsonElement Explain(string admin)
    {
        var (code, output, error) = CliProcess.RunAsync("explain", "app", "--admin", admin, "--json").GetAwaiter().GetResult();
        code.Should().Be(0, error);
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
