using System.Net.Sockets;
using System.Text.Json;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary><c>status</c> and <c>check</c> against sockets that are not there, and backends with uneven weights.</summary>
[Trait("Category", "Haproxy")]
public sealed class StatusSocketAndWeightTests
{
    [Fact]
    public async Task StatusAndCheck_MissingSocketFile_SayNoSuchSocketFile()
    {
        using var dir = new TempDirectory();
        string socket = dir.File("missing.sock");

        (await CliRunner.RunAsync("status", "--endpoint", socket)).Should()
            .Be((1, "", $"error: {socket}: 'show stat -1 4 -1' failed: cannot connect: no such socket file\n"));

        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, $$"""{ "haproxy": { "endpoints": ["{{socket}}"] }, "backends": { "app": { "servers": { "s1": {} } } } }""");
        var (exitCode, output, _) = await CliRunner.RunAsync("check", "--config", config);
        exitCode.Should().Be(1);
        output.Should().Contain($"problem  {socket}: 'show info' failed: cannot connect: no such socket file\n");
    }

    [Fact]
    public async Task Status_SocketFileNobodyListensOn_SaysConnectionRefused()
    {
        using var dir = new TempDirectory();
        string path = dir.File("stale.sock");
        // A socket file with no listener behind it (bound, never listening; .NET removes the file on dispose).
        using var notListening = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        notListening.Bind(new UnixDomainSocketEndPoint(path));

        (await CliRunner.RunAsync("status", "--endpoint", path)).Should()
            .Be((1, "", $"error: {path}: 'show stat -1 4 -1' failed: cannot connect: connection refused\n"));
    }

    [Fact]
    public async Task Status_UnevenWeights_OneWarningPerBackendOnStderr_AndInitialWeightInJson()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync(
            """
            backend app
                server s1 127.0.0.1:1 weight 10
                server s2 127.0.0.1:2 weight 10
                server parked 127.0.0.1:3 weight 10 disabled
            backend even
                server e1 127.0.0.1:4
                server e2 127.0.0.1:5
            backend mixed
                server m1 127.0.0.1:6 weight 10
                server m2 127.0.0.1:7
            """,
            dir);
        string socket = dir.File("admin.sock");
        await using (IHaproxyControl control = HaproxyControl.Create(socket))
        {
            // By hand on a ready server: reported. On a server in maintenance (the immediate scale-down): not.
            await control.SetWeightAsync("app", "s2", 5);
            await control.SetWeightAsync("app", "parked", 0);
            (await control.ShowServersStateAsync("app")).Select(s => (s.Server, s.UserWeight, s.AdminState))
                .Should().Equal(("s1", 10, ServerAdminState.Ready), ("s2", 5, ServerAdminState.Ready), ("parked", 0, ServerAdminState.Maint));
        }

        var (exitCode, output, error) = await CliRunner.RunAsync("status", "--endpoint", socket);

        exitCode.Should().Be(0, error);
        output.Split('\n')[0].Should().StartWith("BACKEND");
        output.Should().EndWith($"\n\n{socket}: HAProxy {HaproxyBinary.Version}, pid {haproxy.Pid}\n", "the version of each instance after the table");
        error.Should().Be(
            "warning: backend app: ready server not at the configured weight: s2 5 (configured 10)\n" +
            "warning: backend mixed: configured weights differ (m1 10, m2 1)\n");

        (exitCode, output, error) = await CliRunner.RunAsync("status", "--endpoint", socket, "--json");
        exitCode.Should().Be(0, error);
        error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(2, "the warnings go to stderr, the JSON stays an array");
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToDictionary(r => r.GetProperty("server").GetString()!);
        rows.Select(r => (r.Key, r.Value.GetProperty("weight").GetInt32(), r.Value.GetProperty("initialWeight").GetInt32(), r.Value.GetProperty("weightMismatch").GetBoolean()))
            .Should().Equal(
                ("s1", 10, 10, true),
                ("s2", 5, 10, true),
                // In maintenance after "set weight 0": show stat says 10 on 2.6 (never recomputed in maintenance), 0 on
                // 3.0 (its user weight); status shows srv_iweight on both, the weight the autoscaler enables it with.
                ("parked", 10, 10, true),
                ("e1", 1, 1, false),
                ("e2", 1, 1, false),
                ("m1", 10, 10, true),
                ("m2", 1, 1, true));

        rows.Values.Should().OnlyContain(r => r.GetProperty("haproxyVersion").GetString() == HaproxyBinary.Version);

        (exitCode, _, error) = await CliRunner.RunAsync("status", "--endpoint", socket, "--backend", "even");
        (exitCode, error).Should().Be((0, ""));
    }
}
