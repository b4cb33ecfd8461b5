using System.Diagnostics;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

[Trait("Category", "Haproxy")]
public sealed class CheckAndRunCommandTests
{
    private const string Backends = """
        backend app
            server s1 127.0.0.1:1
            server s2 127.0.0.1:2 disabled
        """;

    private static Task<Haproxy> StartHaproxyAsync(TempDirectory dir) =>
        Haproxy.StartWithAdminSocketAsync(Backends, dir, "    stats socket {dir}/user.sock mode 600 level user", dir.File("user.sock"));

    private static string Config(string endpoints, string servers = """ "s1": { "alwaysUp": true }, "s2": {} """) => $$"""
        {
          "haproxy": { "endpoints": [{{endpoints}}] },
          "logs": { "source": "udp@127.0.0.1:0" },
          "backends": { "app": { "servers": { {{servers}} } } }
        }
        """;

    [Fact]
    public async Task Check_GoodConfigAgainstLiveHaproxy_Exit0()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await StartHaproxyAsync(dir);
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, Config($"\"{dir.File("admin.sock")}\""));

        var (exitCode, output, error) = await CliRunner.RunAsync("check", "--config", config);
        exitCode.Should().Be(0, output + error);
        output.Should().Contain($"{dir.File("admin.sock")}: HAProxy {HaproxyBinary.Version}, pid {haproxy.Pid}\n").And.Contain("backends.app.servers.s2: maint").And.Contain("admin commands allowed");
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().OnlyContain(l => l.StartsWith("ok ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Check_WrongServerUnreachableEndpointAndUserSocket_Exit1NamingEach()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await StartHaproxyAsync(dir);
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, Config(
            $"\"{dir.File("admin.sock")}\", \"{dir.File("missing.sock")}\", \"{dir.File("user.sock")}\"",
            """ "s1": { "alwaysUp": true }, "s9": {} """).Replace("\"app\": {", "\"app\": {", StringComparison.Ordinal)
            .Replace("\"backends\": {", "\"backends\": { \"ghost\": { \"servers\": { \"g1\": {} } },", StringComparison.Ordinal));

        var (exitCode, output, _) = await CliRunner.RunAsync("check", "--config", config);
        exitCode.Should().Be(1);
        string[] problems = [.. output.Split('\n').Where(l => l.StartsWith("problem", StringComparison.Ordinal))];
        problems.Should().Contain(l => l.Contains("backends.app.servers.s9:", StringComparison.Ordinal) && l.Contains("has no server 'app/s9'", StringComparison.Ordinal));
        problems.Should().Contain(l => l.Contains(dir.File("missing.sock"), StringComparison.Ordinal) && l.Contains("cannot connect", StringComparison.Ordinal));
        problems.Should().Contain(l => l.Contains(dir.File("user.sock"), StringComparison.Ordinal) && l.Contains("does not allow admin commands", StringComparison.Ordinal));
        problems.Should().Contain(l => l.Contains("backends.ghost:", StringComparison.Ordinal) && l.Contains("has no backend 'ghost'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckAndRun_MalformedConfig_Exit2ListingEveryProblem()
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, """
            { "haproxy": { "endpoints": ["nowhere"] },
              "backends": { "app": { "window": { "kind": "sliding" }, "servers": { "s1": { "warmupUrl": "ftp://x/" } } } } }
            """);
        foreach (string command in new[] { "check", "run" })
        {
            var (exitCode, output, error) = await CliRunner.RunAsync(command, "--config", config);
            exitCode.Should().Be(2);
            output.Should().BeEmpty();
            error.Should().Contain("has 3 problems")
                .And.Contain("haproxy.endpoints[0]: 'nowhere'")
                .And.Contain("backends.app.window.kind: unknown window kind 'sliding'")
                .And.Contain("backends.app.servers.s1.warmupUrl: not an absolute http(s) URL");
        }
    }

    [Fact]
    public async Task Run_Sigterm_StopsCleanlyWithExit0()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await StartHaproxyAsync(dir);
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, Config($"\"{dir.File("admin.sock")}\""));

        string cli = Path.Combine(AppContext.BaseDirectory, "haproxy-autoscale.dll");
        using var process = Process.Start(new ProcessStartInfo("dotnet") { ArgumentList = { cli, "run", "--config", config }, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string Output() { lock (output) { return output.ToString(); } }

        try
        {
            await Poll.UntilAsync(() => Output().Contains("adopted as parked", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the daemon to read HAProxy's state");

            Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await FluentActions.Awaiting(() => process.WaitForExitAsync(deadline.Token)).Should().NotThrowAsync("the daemon stops within 10 s of SIGTERM");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        // WaitForExitAsync has also read both streams to their end.
        process.ExitCode.Should().Be(0, Output());
        Output().Should().Contain("Autoscaling 1 backend(s) from udp@127.0.0.1:0")
            .And.MatchRegex(@"Stopped after reading \d+ log lines", "the engine shut down through its normal path, not killed");
    }
}
