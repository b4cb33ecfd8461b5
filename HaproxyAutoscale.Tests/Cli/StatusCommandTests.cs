using System.Text.Json;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

[Trait("Category", "Haproxy")]
public sealed class StatusCommandTests
{
    [Fact]
    public async Task Status_Json_OneRowPerServerWithStates_AndEndpointWithSeveral()
    {
        using var dir = new TempDirectory();
        int tcpPort = Ports.FreeTcp();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync(
            """
            backend app
                server s1 127.0.0.1:1 weight 10
                server s2 127.0.0.1:2 disabled
            backend other
                server o1 127.0.0.1:3
            """,
            dir,
            $"    stats socket ipv4@127.0.0.1:{tcpPort} level admin");
        await haproxy.WaitForPortAsync(tcpPort);

        var (exitCode, output, error) = await CliRunner.RunAsync("status", "--endpoint", dir.File("admin.sock"), "--backend", "app", "--json");
        exitCode.Should().Be(0, error);
        JsonElement[] rows = [.. JsonDocument.Parse(output).RootElement.EnumerateArray()];
        rows.Select(r => r.GetProperty("server").GetString()).Should().Equal("s1", "s2");
        rows[0].GetProperty("adminState").GetString().Should().Be("ready");
        rows[0].GetProperty("operState").GetString().Should().Be("up");
        rows[0].GetProperty("weight").GetInt32().Should().Be(10);
        rows[1].GetProperty("adminState").GetString().Should().Be("maint");
        rows[0].TryGetProperty("endpoint", out _).Should().BeFalse();
        foreach (string field in new[] { "backend", "sessions", "queue", "rtimeMs" })
        {
            rows[0].TryGetProperty(field, out _).Should().BeTrue(field);
        }

        (exitCode, output, error) = await CliRunner.RunAsync("status", "--endpoint", dir.File("admin.sock"), "--endpoint", $"ipv4@127.0.0.1:{tcpPort}", "--json");
        exitCode.Should().Be(0, error);
        JsonDocument.Parse(output).RootElement.EnumerateArray().Select(r => r.GetProperty("endpoint").GetString()).Distinct()
            .Should().Equal(dir.File("admin.sock"), $"ipv4@127.0.0.1:{tcpPort}");

        (exitCode, output, _) = await CliRunner.RunAsync("status", "--endpoint", dir.File("admin.sock"));
        exitCode.Should().Be(0);
        output.Split('\n')[0].Should().StartWith("BACKEND").And.Contain("ADMIN").And.Contain("RTIME_MS");

        // The same from a configuration file's endpoints.
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, $$"""{ "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] }, "backends": { "app": { "servers": { "s1": {} } } } }""");
        (exitCode, output, error) = await CliRunner.RunAsync("status", "--config", config, "--backend", "other", "--json");
        exitCode.Should().Be(0, error);
        JsonDocument.Parse(output).RootElement.EnumerateArray().Select(r => r.GetProperty("server").GetString()).Should().Equal("o1");
    }

    [Fact]
    public async Task Status_MissingSocket_OneClearLineAndExitCode1()
    {
        var (exitCode, output, error) = await CliRunner.RunAsync("status", "--endpoint", "/tmp/hpa-no-such-dir/admin.sock");
        exitCode.Should().Be(1);
        output.Should().BeEmpty();
        error.Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("error: /tmp/hpa-no-such-dir/admin.sock: 'show stat -1 4 -1' failed: cannot connect");
    }

    [Fact]
    public async Task Analyze_MissingFileAndUsageErrors_UseTheirExitCodes()
    {
        (await CliRunner.RunAsync("analyze", "/tmp/hpa-no-such.log")).ExitCode.Should().Be(1);
        (await CliRunner.RunAsync("analyze")).ExitCode.Should().Be(2);
        (await CliRunner.RunAsync("status", "--endpoint", "udp@1.2.3.4:5")).ExitCode.Should().Be(2);
        (await CliRunner.RunAsync("status")).ExitCode.Should().Be(2, "status needs --config or --endpoint");
    }
}
