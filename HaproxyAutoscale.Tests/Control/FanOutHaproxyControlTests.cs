using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Tests.Control;

/// <summary>Two real HAProxy processes behind one fan-out control.</summary>
[Trait("Category", "Haproxy")]
public sealed class FanOutHaproxyControlTests
{
    private const string Backends = """
        backend app
            server s1 127.0.0.1:1
            server s2 127.0.0.1:2
        """;

    [Fact]
    public async Task FanOut_CommandsReachBoth_AndAStoppedInstanceIsReportedWhileTheOtherIsCommanded()
    {
        using var dirA = new TempDirectory();
        using var dirB = new TempDirectory();
        await using var a = await Haproxy.StartWithAdminSocketAsync(Backends, dirA);
        await using var b = await Haproxy.StartWithAdminSocketAsync(Backends, dirB);
        var options = new HaproxyControlOptions { Timeout = TimeSpan.FromSeconds(2) };
        await using IHaproxyFanOut fleet = HaproxyControl.FanOut([
            HaproxyControl.Create(dirA.File("admin.sock"), options),
            HaproxyControl.Create(dirB.File("admin.sock"), options)]);

        await fleet.SetServerStateAsync("app", "s2", ServerAdminState.Maint);
        var states = await fleet.ShowServersStateOnEachAsync("app");
        states.Should().OnlyContain(r => r.Succeeded && r.Value!.Single(s => s.Server == "s2").AdminState == ServerAdminState.Maint);
        HaproxyFanOutExtensions.FindDifferences(states).Should().BeEmpty();

        // Someone changes one instance by hand: the difference is reported.
        await fleet.Instances[1].SetServerStateAsync("app", "s1", ServerAdminState.Drain);
        ServerStateDifference difference = HaproxyFanOutExtensions.FindDifferences(await fleet.ShowServersStateOnEachAsync("app")).Single();
        difference.Server.Should().Be("s1");
        difference.States[dirA.File("admin.sock")].Should().Be(ServerAdminState.Ready);
        difference.States[dirB.File("admin.sock")].Should().Be(ServerAdminState.Drain);

        await b.StopAsync();
        IReadOnlyList<EndpointResult<string>> outcome = await fleet.ExecuteOnEachAsync("enable server app/s2");
        outcome[0].Succeeded.Should().BeTrue();
        outcome[1].Error!.Kind.Should().Be(HaproxyErrorKind.ConnectionFailed);
        (await fleet.Instances[0].ShowServersStateAsync("app")).Single(s => s.Server == "s2").AdminState.Should().Be(ServerAdminState.Ready);

        var error = await FluentActions.Awaiting(() => fleet.DisableServerAsync("app", "s2")).Should().ThrowAsync<HaproxyControlException>();
        error.Which.Kind.Should().Be(HaproxyErrorKind.ConnectionFailed);
        error.Which.Message.Should().Contain(dirB.File("admin.sock")).And.Contain("on 1 of 2 instances (the others applied it)");
        (await fleet.Instances[0].ShowServersStateAsync("app")).Single(s => s.Server == "s2").AdminState.Should().Be(ServerAdminState.Maint);
    }
}
