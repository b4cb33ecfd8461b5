using System.Net;
using HaproxyAutoscale.Checks;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Control;

/// <summary>
/// The HAProxy release from <c>show info</c>, and what depends on it: the warning below 2.4 (no dynamic servers) and
/// <c>wait srv-removable</c> before <c>del server</c> on 3.0+. Run against the binary under test (2.6 and 3.0 in CI).
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class HaproxyVersionTests
{
    [Theory]
    [InlineData("2.6.12-1+deb12u4", "2.6.12")] // Debian 12
    [InlineData("3.0.11-9e587df", "3.0.11")] // built from Debian 13's upstream tarball
    [InlineData("3.1-dev5-a1b2c3d", "3.1")]
    [InlineData("2.2.30", "2.2.30")]
    [InlineData("", null)]
    [InlineData("dev-build", null)]
    [InlineData("3", null)]
    public void Release_FromShowInfoVersion(string version, string? release) =>
        new HaproxyInfo("HAProxy", version, 1, TimeSpan.Zero, new Dictionary<string, string>()).Release
            .Should().Be(release is null ? null : Version.Parse(release));

    [Theory]
    [InlineData("2.2.30", true)]
    [InlineData("2.3.21", true)]
    [InlineData("2.4.0", false)]
    [InlineData("3.0.11-9e587df", false)]
    [InlineData("dev-build", false)]
    public void Warning_OnlyBelow24(string version, bool warned) =>
        (HaproxyVersions.Warning(new HaproxyInfo("HAProxy", version, 1, TimeSpan.Zero, new Dictionary<string, string>())) is not null).Should().Be(warned);

    [Fact]
    public async Task Preflight_ReportsTheVersion_AndWarnsBelow24()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync("backend app\n    server s1 127.0.0.1:1\n", dir);
        var options = new AutoscaleOptions();
        await using IHaproxyControl real = HaproxyControl.Create(dir.File("admin.sock"));

        IReadOnlyList<PreflightFinding> findings = await PreflightChecks.RunAsync(options, real);
        findings.Should().Equal(new PreflightFinding(PreflightSeverity.Ok, $"{real.Endpoint}: HAProxy {HaproxyBinary.Version}, pid {haproxy.Pid}"));

        // The same HAProxy claiming 2.2 in show info (no older HAProxy is installed here): the version, then the warning.
        await using IHaproxyControl old = new VersionRewritingControl(real, "2.2.30");
        findings = await PreflightChecks.RunAsync(options, old);
        findings.Should().Equal(
            new PreflightFinding(PreflightSeverity.Ok, $"{real.Endpoint}: HAProxy 2.2.30, pid {haproxy.Pid}"),
            new PreflightFinding(PreflightSeverity.Warning, $"{real.Endpoint}: HAProxy 2.2.30 is older than 2.4: it cannot add or delete servers at run time (add server, del server), which backends with a pool or a provider need"));
    }

    [Fact]
    public async Task RemoveServer_WithARequestInFlight_WaitsForItOn30_IsRefusedBefore()
    {
        await using var app = AppServers.Plain(delay: TimeSpan.FromSeconds(1));
        using var dir = new TempDirectory();
        int port = Ports.FreeTcp();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync(
            $"""
            frontend fe
                bind 127.0.0.1:{port}
                default_backend app
            backend app
                balance roundrobin
            """, dir);
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));
        await control.AddServerAsync("app", "auto1", "127.0.0.1", app.Port);
        await control.SetServerStateAsync("app", "auto1", ServerAdminState.Ready);
        bool hasWait = (await control.ShowInfoAsync()).Release >= new Version(3, 0);

        using var http = new HttpClient();
        Task<HttpResponseMessage> request = http.GetAsync(new Uri($"http://127.0.0.1:{port}/"));
        await Poll.UntilAsync(() => control.ShowStatAsync().GetAwaiter().GetResult().Single(s => s.Server == "auto1").CurrentSessions == 1,
            TimeSpan.FromSeconds(5), "the request to reach auto1");

        Func<Task> remove = () => control.RemoveServerAsync("app", "auto1", TimeSpan.FromSeconds(3));
        if (hasWait)
        {
            // 3.0: "wait 3000 srv-removable app/auto1" returns once the request is answered; del server then succeeds.
            await remove();
            request.IsCompleted.Should().BeTrue("del server came after the request's end");
        }
        else
        {
            (await remove.Should().ThrowAsync<HaproxyControlException>()).Which.Answer.Should().Be("Server still has connections attached to it, cannot remove it.");
            await request;
            await Poll.UntilAsync(() => control.ShowStatAsync().GetAwaiter().GetResult().Single(s => s.Server == "auto1").CurrentSessions == 0,
                TimeSpan.FromSeconds(5), "auto1 to have no session left");
            await remove();
        }

        (await request).StatusCode.Should().Be(HttpStatusCode.OK);
        (await control.ShowServersStateAsync("app")).Should().NotContain(s => s.Server == "auto1");
    }

    // A real control whose "show info" says another version: everything else reaches the real HAProxy.
    private sealed class VersionRewritingControl(IHaproxyControl inner, string version) : IHaproxyControl
    {
        public string Endpoint => inner.Endpoint;

        public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
        {
            string answer = await inner.ExecuteAsync(command, cancellationToken);
            return command == "show info"
                ? string.Join('\n', answer.Split('\n').Select(l => l.StartsWith("Version: ", StringComparison.Ordinal) ? "Version: " + version : l))
                : answer;
        }

        public Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default) =>
            inner.ExecuteBatchAsync(commands, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
