using System.Text.Json;
using HaproxyAutoscale.Cli.Admin;
using HaproxyAutoscale.Cli.Commands;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using HaproxyAutoscale.Windows;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary><c>explain</c>, <c>pause</c>, <c>resume</c> and <c>status --admin</c> as processes against a <c>run --admin</c> daemon process and a real HAProxy.</summary>
[Trait("Category", "Haproxy")]
public sealed class AdminCommandsTests
{
    [Fact]
    public async Task PauseExplainStatusResume_AgainstRunningDaemon_PausedBackendHoldsUntilResumed()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync("""
            backend app
                server s1 127.0.0.1:1
                server s2 127.0.0.1:2
            """, dir);
        string config = dir.File("config.json");
        // s2 is up and nothing is logged: after 6 s of idleness the policy wants it drained (time enough to pause first).
        await File.WriteAllTextAsync(config, $$"""
            { "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] }, "logs": { "source": "udp@127.0.0.1:0" },
              "evaluationInterval": "200ms",
              "backends": { "app": { "policy": { "kind": "threshold", "idleScaleDown": "6s" }, "settleTime": "0s",
                                     "scaleDown": { "drainTimeout": "1s" },
                                     "servers": { "s1": { "alwaysUp": true }, "s2": {} } } } }
            """);
        string admin = "unix:" + dir.File("ctl.sock");
        await using var daemon = CliProcess.Start("run", "--config", config, "--admin", admin);
        await Poll.UntilAsync(() => File.Exists(dir.File("ctl.sock")) || daemon.HasExited, TimeSpan.FromSeconds(20), "the admin socket");
        daemon.HasExited.Should().BeFalse(daemon.Output);

        var (code, output, error) = await CliProcess.RunAsync("pause", "app", "--admin", admin);
        code.Should().Be(0, error);
        output.Should().Be("app: paused until resumed: decisions are logged, no action is taken\n");

        // The idle rule fires and is held back by the pause; explain says so, one fact per line.
        string explained = "";
        await Poll.UntilAsync(
            () => (explained = CliProcess.RunAsync("explain", "app", "--admin", admin).GetAwaiter().GetResult().Output).Contains("held back by: paused", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "a decision held back by the pause");
        explained.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainInOrder(
            "backend: app",
            "window: empty (no request logged in the window)",
            "coverage: unknown (HAProxy's counters not read yet, or no request counted)",
            "blind: no",
            "paused: until resumed (decisions are logged, no action is taken)",
            "server s1: active",
            "server s2: active",
            "held back by: paused");
        explained.Should().MatchRegex(@"last decision: hold at \d{4}-\d\d-\d\dT[\d:.]+Z: .*paused");

        (code, output, error) = await CliProcess.RunAsync("status", "--config", config, "--admin", admin);
        code.Should().Be(0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().MatchRegex(@"^BACKEND\s+SERVER\s+ADMIN\s+OPER\s+WEIGHT\s+SESSIONS\s+QUEUE\s+RTIME_MS\s+ROLE\s+LIFECYCLE\s+PAUSED\s+COVERAGE$");
        lines.Should().Contain(l => l.StartsWith("app", StringComparison.Ordinal) && l.Contains(" s2 ", StringComparison.Ordinal)
            && l.Contains(" ready ", StringComparison.Ordinal) && l.Contains(" active ", StringComparison.Ordinal) && l.EndsWith("until resumed  -", StringComparison.Ordinal));

        // With --backend it asks the daemon for that backend alone (GET /backends/app), and says the same.
        foreach (string[] only in new[] { Array.Empty<string>(), ["--backend", "app"] })
        {
            (code, output, error) = await CliProcess.RunAsync(["status", "--config", config, "--admin", admin, "--json", .. only]);
            code.Should().Be(0, error);
            using JsonDocument rows = JsonDocument.Parse(output);
            JsonElement s2 = rows.RootElement.EnumerateArray().Single(r => r.GetProperty("server").GetString() == "s2");
            s2.GetProperty("role").GetString().Should().Be("active");
            s2.GetProperty("lifecycle").GetString().Should().Be("active");
            s2.GetProperty("paused").GetBoolean().Should().BeTrue();
            s2.GetProperty("coverage").ValueKind.Should().Be(JsonValueKind.Null);
        }

        (code, output, error) = await CliProcess.RunAsync("resume", "app", "--admin", admin);
        code.Should().Be(0, error);
        output.Should().Be("app: resumed\n");
        await Poll.UntilAsync(
            () => CliProcess.RunAsync("explain", "app", "--admin", admin).GetAwaiter().GetResult().Output.Contains("server s2: parked", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), "s2 drained once resumed");
        (code, output, _) = await CliProcess.RunAsync("explain", "app", "--admin", admin, "--json");
        code.Should().Be(0);
        using (JsonDocument app = JsonDocument.Parse(output))
        {
            app.RootElement.GetProperty("paused").GetBoolean().Should().BeFalse();
            app.RootElement.GetProperty("lastDecision").GetProperty("heldBy").ValueKind.Should().Be(JsonValueKind.Null);
        }

        daemon.Output.Should().Contain("app: paused until resumed").And.Contain("app: resumed (resumed by an operator)").And.Contain("decided down s2");
    }

    [Fact]
    public async Task Verbs_UnknownBackendOrBadDuration_OneLineOnStderrExit1()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync("backend app\n    server s1 127.0.0.1:1\n", dir);
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] }, "logs": { "source": "udp@127.0.0.1:0" },
              "backends": { "app": { "servers": { "s1": { "alwaysUp": true } } } } }
            """);
        string admin = $"127.0.0.1:{Ports.FreeTcp()}";
        await using var daemon = CliProcess.Start("run", "--config", config, "--admin", admin);
        await Poll.UntilAsync(() => daemon.Output.Contains("adopted as active", StringComparison.Ordinal) || daemon.HasExited, TimeSpan.FromSeconds(20), "the daemon to start");

        foreach ((string[] args, string error) in new[]
        {
            (new[] { "explain", "web" }, "error: no backend 'web' is autoscaled (configured: app)\n"),
            (new[] { "pause", "web" }, "error: no backend 'web' is autoscaled (configured: app)\n"),
            (new[] { "resume", "web" }, "error: no backend 'web' is autoscaled (configured: app)\n"),
            (new[] { "pause", "app", "--for", "soon" }, "error: for: 'soon' is not a positive duration like 30s, 5m, 1h or 00:05:00\n"),
        })
        {
            var (code, output, stderr) = await CliProcess.RunAsync([.. args, "--admin", admin]);
            code.Should().Be(1, string.Join(' ', args));
            stderr.Should().Be(error);
            output.Should().BeEmpty();
        }
    }

    [Theory]
    [InlineData(false, "/backends/app")]
    [InlineData(true, "/backends/app /status")] // still running after the package was upgraded
    public async Task Explain_NewOrOlderDaemon_AsksForTheBackendAlone_OrReadsTheWholeStatus(bool older, string asked)
    {
        // A stub daemon: the older one answers every path but /status with 404 "no such endpoint", as released ones do.
        var app = new BackendSnapshot("app", WindowValue.Empty, []);
        var paths = new System.Collections.Concurrent.ConcurrentQueue<string>();
        AdminAddress.TryParse($"127.0.0.1:{Ports.FreeTcp()}", out AdminAddress? address, out _).Should().BeTrue();
        await using AdminHttpServer server = AdminHttpServer.Start(address!, (request, _) =>
        {
            paths.Enqueue(request.Path);
            return Task.FromResult(request.Path switch
            {
                "/status" => new AdminResponse(200, AdminJson.Status([app])),
                "/backends/app" when !older => new AdminResponse(200, AdminJson.Backend(app)),
                "/senders" when !older => new AdminResponse(200, AdminJson.Senders([])),
                _ when !older => new AdminResponse(404, AdminJson.Message("no backend 'nope' is autoscaled (configured: app)")),
                _ => new AdminResponse(404, AdminJson.Message($"no such endpoint: {request.Path} (GET /status, POST /backends/NAME/pause?for=30m, POST /backends/NAME/resume, POST /reload)")),
            });
        }, TimeSpan.FromSeconds(5));

        var (code, output, error) = await CliRunner.RunAsync("explain", "app", "--admin", address!.Text);
        code.Should().Be(0, error);
        output.Should().StartWith("backend: app\nwindow: empty");
        string.Join(' ', paths).Should().Be(asked);

        (code, output, error) = await CliRunner.RunAsync("explain", "nope", "--admin", address.Text);
        code.Should().Be(1);
        error.Should().Be("error: no backend 'nope' is autoscaled (configured: app)\n");

        // status --fleet's senders: GET /senders, or the older daemon's /status, which holds them too.
        using var client = new AdminClient(address);
        FleetStatus.SendersFrom(await client.SendersAsync(CancellationToken.None)).Should().BeEmpty();
        paths.Should().EndWith(older ? ["/senders", "/status"] : ["/senders"]);
    }

    [Theory]
    [InlineData("explain")]
    [InlineData("pause")]
    [InlineData("resume")]
    public async Task Verb_DaemonNotRunning_OneLineOnStderrExit1(string verb)
    {
        using var dir = new TempDirectory();
        foreach (string admin in new[] { $"127.0.0.1:{Ports.FreeTcp()}", "unix:" + dir.File("none.sock") })
        {
            var (code, output, error) = await CliRunner.RunAsync(verb, "app", "--admin", admin);
            code.Should().Be(1);
            output.Should().BeEmpty();
            error.Should().StartWith($"error: cannot reach the autoscaler at {admin}: ").And.EndWith($"(is 'haproxy-autoscale run --admin {admin}' running?)\n")
                .And.Contain(admin.StartsWith("unix:", StringComparison.Ordinal) ? "no such socket file" : "connection refused");
            error.TrimEnd('\n').Should().NotContain("\n");
        }
    }

    [Theory]
    [InlineData("0.0.0.0:9465", "is not a loopback address")]
    [InlineData("unix:relative.sock", "needs an absolute path")]
    public async Task Run_AdminOnNonLoopbackOrBadAddress_Exit2OneLine(string address, string message)
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, """{ "haproxy": { "endpoints": ["/tmp/x.sock"] }, "backends": { "app": { "servers": { "s1": {} } } } }""");

        var (code, output, error) = await CliRunner.RunAsync("run", "--config", config, "--admin", address);
        code.Should().Be(2);
        output.Should().BeEmpty();
        error.Should().StartWith($"error: --admin: '{address}' ").And.Contain(message);
        error.TrimEnd('\n').Should().NotContain("\n");
    }
}
