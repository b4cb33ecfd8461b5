using System.Net;
using System.Net.Sockets;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Tests.Control;

/// <summary>The Runtime API client against a real HAProxy over its UNIX and TCP admin sockets and a user-level socket.</summary>
[Trait("Category", "Haproxy")]
public sealed class SocketHaproxyControlTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();
    private readonly int _tcpPort = Ports.FreeTcp();
    private Haproxy _haproxy = null!;

    public string UnixSocket => _dir.File("admin.sock");

    public static TheoryData<string> Transports => new() { "unix", "tcp", "unix-oneshot", "tcp-oneshot" };

    public async ValueTask InitializeAsync()
    {
        _haproxy = await Haproxy.StartWithAdminSocketAsync(
            """
            backend app
                server s1 127.0.0.1:1 weight 10
                server s2 127.0.0.1:2 disabled
                server s3 127.0.0.1:3
            """,
            _dir,
            $"    stats socket ipv4@127.0.0.1:{_tcpPort} level admin\n    stats socket {{dir}}/user.sock mode 600 level user",
            _dir.File("user.sock"));
        await _haproxy.WaitForPortAsync(_tcpPort);
    }

    public async ValueTask DisposeAsync()
    {
        await _haproxy.DisposeAsync();
        _dir.Dispose();
    }

    // "unix"/"tcp" use the default persistent interactive session; "-oneshot" one connection per exchange.
    private IHaproxyControl Control(string transport) => HaproxyControl.Create(
        transport.StartsWith("unix", StringComparison.Ordinal) ? "unix@" + UnixSocket : $"ipv4@127.0.0.1:{_tcpPort}",
        new HaproxyControlOptions { Timeout = TimeSpan.FromSeconds(3), Persistent = !transport.EndsWith("-oneshot", StringComparison.Ordinal) });

    // HAProxy's own list of open sessions; a Runtime API (CLI) session is one of its GLOBAL frontend.
    private static async Task<int> CliSessionsAsync(IHaproxyControl control) =>
        (await control.ExecuteAsync("show sess")).Split('\n').Count(l => l.Contains(" fe=GLOBAL ", StringComparison.Ordinal));

    private static async Task<ServerState> StateOf(IHaproxyControl control, string server) =>
        (await control.ShowServersStateAsync("app")).Single(s => s.Server == server);

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Commands_OverEachTransport_ChangeTheStateReadBack(string transport)
    {
        IHaproxyControl control = Control(transport);

        // s2 is declared "disabled": maintenance, and the configured-disabled bit.
        ServerState s2 = await StateOf(control, "s2");
        s2.AdminState.Should().Be(ServerAdminState.Maint);
        s2.AdminFlags.Should().HaveFlag(ServerAdminFlags.ConfiguredDisabled);

        await control.EnableServerAsync("app", "s2");
        s2 = await StateOf(control, "s2");
        s2.AdminState.Should().Be(ServerAdminState.Ready, "0x04 stays set after enable but is not maintenance");
        s2.AdminFlags.Should().HaveFlag(ServerAdminFlags.ConfiguredDisabled);

        await control.SetServerStateAsync("app", "s1", ServerAdminState.Drain);
        (await StateOf(control, "s1")).AdminState.Should().Be(ServerAdminState.Drain);
        (await control.ShowStatAsync()).Single(r => r.Server == "s1").Status.Should().Be("DRAIN");

        await control.SetServerStateAsync("app", "s1", ServerAdminState.Maint);
        (await StateOf(control, "s1")).AdminState.Should().Be(ServerAdminState.Maint);
        await control.SetServerStateAsync("app", "s1", ServerAdminState.Ready);
        (await StateOf(control, "s1")).AdminState.Should().Be(ServerAdminState.Ready);

        await control.DisableServerAsync("app", "s3");
        (await StateOf(control, "s3")).AdminState.Should().Be(ServerAdminState.Maint);
        (await control.ShowStatAsync()).Single(r => r.Server == "s3").Status.Should().StartWith("MAINT");

        await control.SetWeightAsync("app", "s1", 7);
        (await StateOf(control, "s1")).UserWeight.Should().Be(7);
        (await control.ExecuteAsync("get weight app/s1")).Should().Be("7 (initial 10)");
        await control.SetWeightPercentAsync("app", "s1", 50);
        (await StateOf(control, "s1")).UserWeight.Should().Be(5);

        HaproxyInfo info = await control.ShowInfoAsync();
        info.Name.Should().Be("HAProxy");
        info.Version.Should().Be(HaproxyBinary.Version, "the version of the binary under test (2.6 or 3.0 in CI)");
        info.Release.Should().NotBeNull().And.BeGreaterThanOrEqualTo(new Version(2, 4));
        info.Pid.Should().Be(_haproxy.Pid);

        IReadOnlyList<ServerStat> stat = await control.ShowStatAsync();
        stat.Select(r => r.Server).Should().BeEquivalentTo(["s1", "s2", "s3"]);
        stat.Should().OnlyContain(r => r.Backend == "app" && r.IsActive && !r.IsBackup && r.CurrentSessions == 0);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Errors_MapToTypedErrorsNamingEndpointCommandAndAnswer(string transport)
    {
        IHaproxyControl control = Control(transport);

        var unknownServer = await FluentActions.Awaiting(() => control.DisableServerAsync("app", "nope")).Should().ThrowAsync<HaproxyControlException>();
        unknownServer.Which.Kind.Should().Be(HaproxyErrorKind.UnknownServer);
        unknownServer.Which.Message.Should().Be($"{control.Endpoint}: 'disable server app/nope' failed: No such server.");

        (await FluentActions.Awaiting(() => control.EnableServerAsync("nope", "s1")).Should().ThrowAsync<HaproxyControlException>())
            .Which.Kind.Should().Be(HaproxyErrorKind.UnknownBackend);
        (await FluentActions.Awaiting(() => control.ExecuteAsync("set weight app/s1 999")).Should().ThrowAsync<HaproxyControlException>())
            .Which.Answer.Should().Be("Absolute weight can only be between 0 and 256 inclusive.");
        (await FluentActions.Awaiting(() => control.ExecuteAsync("bogus command")).Should().ThrowAsync<HaproxyControlException>())
            .Which.Kind.Should().Be(HaproxyErrorKind.UnknownCommand);
    }

    [Fact]
    public async Task PersistentSession_ClosedByHaproxyWhenIdle_IsReopenedTransparently()
    {
        await using IHaproxyControl control = Control("unix");
        await control.ShowInfoAsync();
        IHaproxyControl observer = Control("unix-oneshot");
        (await CliSessionsAsync(observer)).Should().Be(2, "the persistent session is open (the other one is the observer's own)");

        (await control.ExecuteAsync("set timeout cli 1")).Should().BeEmpty(); // this session now idles out after 1 s
        await Poll.UntilAsync(() => CliSessionsAsync(observer).GetAwaiter().GetResult() == 1, TimeSpan.FromSeconds(10), "HAProxy to close the idle session");

        (await control.ShowInfoAsync()).Pid.Should().Be(_haproxy.Pid);
        (await CliSessionsAsync(observer)).Should().Be(2, "the client opened a new session");
    }

    [Fact]
    public async Task UserLevelSocket_AdminCommand_IsPermissionDenied()
    {
        IHaproxyControl user = HaproxyControl.Create(_dir.File("user.sock"));
        var error = await FluentActions.Awaiting(() => user.DisableServerAsync("app", "s1")).Should().ThrowAsync<HaproxyControlException>();
        error.Which.Kind.Should().Be(HaproxyErrorKind.PermissionDenied);
        (await StateOf(Control("unix"), "s1")).AdminState.Should().Be(ServerAdminState.Ready);
    }

    [Theory]
    [InlineData("app;shutdown sessions server app/s1", "s1")]
    [InlineData("app\ndisable server app/s1", "s1")]
    [InlineData("app", "s1 ")]
    [InlineData("app", "s1;disable server app/s3")]
    [InlineData("app", "s1\r")]
    public async Task InjectionAttempts_AreRefusedAndNothingIsSent(string backend, string server)
    {
        IHaproxyControl control = Control("unix");
        var before = await control.ShowServersStateAsync("app");

        (await FluentActions.Awaiting(() => control.DisableServerAsync(backend, server)).Should().ThrowAsync<HaproxyControlException>())
            .Which.Kind.Should().Be(HaproxyErrorKind.InvalidArgument);
        (await FluentActions.Awaiting(() => control.ExecuteAsync("show info;disable server app/s1")).Should().ThrowAsync<HaproxyControlException>())
            .Which.Kind.Should().Be(HaproxyErrorKind.InvalidArgument);

        (await control.ShowServersStateAsync("app")).Should().BeEquivalentTo(before);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Batch_OneRoundTrip_AttributesEachAnswerToItsCommand(string transport)
    {
        IReadOnlyList<CommandResult> results = await Control(transport).ExecuteBatchAsync(["set weight app/s1 3", "disable server app/nope", "get weight app/s1"]);
        results.Select(r => r.Succeeded).Should().Equal(true, false, true);
        results[1].Error!.Kind.Should().Be(HaproxyErrorKind.UnknownServer);
        results[2].Answer.Should().Be("3 (initial 10)");
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task StoppedThenRestarted_FailsClearlyThenWorksAgainWithTheSameClient(string transport)
    {
        IHaproxyControl control = Control(transport);
        (await control.ShowInfoAsync()).Pid.Should().Be(_haproxy.Pid); // a persistent session is open now
        await _haproxy.StopAsync();

        var started = DateTime.UtcNow;
        (await FluentActions.Awaiting(() => control.ShowInfoAsync()).Should().ThrowAsync<HaproxyControlException>())
            .Which.Kind.Should().Be(HaproxyErrorKind.ConnectionFailed);
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(3));

        await _haproxy.RestartAsync(); // ready once its last stats socket answers: the admin socket before it too
        await _haproxy.WaitForPortAsync(_tcpPort);
        (await control.ShowInfoAsync()).Pid.Should().Be(_haproxy.Pid);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ListenerThatNeverAnswers_TimesOut(bool persistent)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // the kernel accepts connections; nobody ever reads or answers
        var control = HaproxyControl.Create($"127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}", new HaproxyControlOptions { Timeout = TimeSpan.FromMilliseconds(500), Persistent = persistent });

        var started = DateTime.UtcNow;
        var error = await FluentActions.Awaiting(() => control.ShowInfoAsync()).Should().ThrowAsync<HaproxyControlException>();
        error.Which.Kind.Should().Be(HaproxyErrorKind.Timeout);
        error.Which.Message.Should().Contain("show info").And.Contain("no answer within 0.5 s");
        error.Which.Message.Should().Contain(persistent ? "start an interactive session" : "read the answer");
        (DateTime.UtcNow - started).Should().BeLessThan(TimeSpan.FromSeconds(3));
    }

    [Theory]
    [InlineData("/run/haproxy/admin.sock", true)]
    [InlineData("unix@/run/haproxy/admin.sock", true)]
    [InlineData("ipv4@127.0.0.1:9999", true)]
    [InlineData("ipv6@[::1]:9999", true)]
    [InlineData("127.0.0.1:9999", true)]
    [InlineData("ipv4@127.0.0.1", false)]
    [InlineData("ipv6@127.0.0.1:9999", false)]
    [InlineData("udp@127.0.0.1:9999", false)]
    [InlineData("", false)]
    public void HaproxyEndpoint_TryParse_HaproxySyntax(string address, bool valid) =>
        HaproxyEndpoint.TryParse(address, out _, out string? error).Should().Be(valid, error);
}
