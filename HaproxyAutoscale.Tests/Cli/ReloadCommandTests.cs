using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Cli.Admin;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>The real CLI process (<c>run</c>) reloading its configuration file on SIGHUP and on <c>POST /reload</c>.</summary>
public sealed class ReloadCommandTests
{
    private const string Backends = """
        backend app
            server s1 127.0.0.1:1
            server s2 127.0.0.1:2 disabled
        """;

    [Fact]
    [Trait("Category", "Haproxy")]
    public async Task Run_SighupAndPostReload_ChangedFileAppliedInvalidOneRejectedWithKeyPaths()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync(Backends, dir);
        string config = dir.File("config.json");
        string admin = "unix:" + dir.File("ctl.sock");
        string metrics = $"127.0.0.1:{Ports.FreeTcp().ToString(CultureInfo.InvariantCulture)}";
        await File.WriteAllTextAsync(config, Config(dir, """ "policy": { "kind": "threshold", "thresholdMs": 300 } """));

        string cli = Path.Combine(AppContext.BaseDirectory, "haproxy-autoscale.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet") { ArgumentList = { cli, "run", "--config", config, "--admin", admin, "--metrics", metrics }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Output() { lock (output) { return output.ToString(); } }

        try
        {
            await Poll.UntilAsync(() => Output().Contains("adopted as parked", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the daemon to read HAProxy's state");
            using (var http = new HttpClient())
            {
                // Scraped once before the reloads: prometheus-net's own meter adapter, started by a first scrape, once
                // counted every later measurement a second time.
                (await http.GetStringAsync(new Uri($"http://{metrics}/metrics"))).Should().NotContain("haproxyautoscale_reloads{");
            }


            // An invalid file: rejected with every key path, through the reload command (POST /reload), 422 with the errors.
            await File.WriteAllTextAsync(config, Config(dir, """ "window": { "kind": "sliding" } """, evaluationInterval: "0s"));
            var (exitCode, _, error) = await CliRunner.RunAsync("reload", "--admin", admin);
            exitCode.Should().Be(1);
            error.Should().Contain("evaluationInterval: must be more than 0").And.Contain("backends.app.window.kind: unknown window kind 'sliding'");
            using (var client = new AdminClient(AdminAddressOf(admin)))
            {
                (int status, JsonElement body) = await client.SendAsync(HttpMethod.Post, "reload", CancellationToken.None);
                status.Should().Be(422);
                body.GetProperty("applied").GetBoolean().Should().BeFalse();
                body.GetProperty("errors").EnumerateArray().Select(e => e.GetString()).Should().Contain("evaluationInterval: must be more than 0");
            }

            // A valid change, by SIGHUP (what systemctl reload sends through ExecReload).
            await File.WriteAllTextAsync(config, Config(dir, """ "policy": { "kind": "threshold", "thresholdMs": 900 } """));
            Process.Start("kill", ["-HUP", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            await Poll.UntilAsync(() => Output().Contains("Reload applied: changed app (policy); unchanged 0", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the reload to apply");
            process.HasExited.Should().BeFalse("SIGHUP reloads, it does not end the daemon");
            using (var http = new HttpClient())
            {
                string scraped = await http.GetStringAsync(new Uri($"http://{metrics}/metrics"));
                scraped.Should().MatchRegex("(?m)^haproxyautoscale_reloads\\{outcome=\"rejected\"\\} 2$").And.MatchRegex("(?m)^haproxyautoscale_reloads\\{outcome=\"applied\"\\} 1$");
            }

            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        process.ExitCode.Should().Be(0, Output());
        Output().Should().Contain("Reload rejected, the running configuration is kept: 2 problem(s)").And.NotContain("SIGHUP is ignored");
    }

    [Fact]
    public async Task Run_UnderNohup_WarnsThatSighupWillNotReload()
    {
        // nohup leaves SIGHUP ignored, and .NET keeps that: kill -HUP would do nothing, so the daemon says so at start.
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, $$"""{ "haproxy": { "endpoints": ["{{dir.File("missing.sock")}}"] }, "logs": { "source": "udp@127.0.0.1:{{Ports.FreeUdp()}}" }, "backends": { "app": { "servers": { "s1": { "alwaysUp": true } } } } }""");

        await using var cli = CliProcess.StartUnder("nohup", "run", "--config", config);
        await Poll.UntilAsync(() => cli.Output.Contains("Reading state from HAProxy failed", StringComparison.Ordinal) || cli.HasExited, TimeSpan.FromSeconds(20), "the daemon's first pass");

        cli.Output.Should().Contain("warning: SIGHUP is ignored by this process (started under nohup");
        (await cli.TerminateAsync()).Should().Be(0, cli.Output);
    }

    [Fact]
    public void UnitFile_ExecReload_SendsSighup()
    {
        File.ReadAllLines(Repository.File("HaproxyAutoscale.Cli", "deploy", "haproxy-autoscale.service"))
            .Should().Contain("ExecReload=/bin/kill -HUP $MAINPID");
    }

    private static string Config(TempDirectory dir, string backend, string evaluationInterval = "200ms") => $$"""
        {
          "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] },
          "logs": { "source": "udp@127.0.0.1:0" },
          "evaluationInterval": "{{evaluationInterval}}",
          "backends": { "app": { {{backend}}, "servers": { "s1": { "alwaysUp": true }, "s2": {} } } }
        }
        """;

    private static AdminAddress AdminAddressOf(string text)
    {
        AdminAddress.TryParse(text, out AdminAddress? address, out _).Should().BeTrue();
        return address!;
    }
}
