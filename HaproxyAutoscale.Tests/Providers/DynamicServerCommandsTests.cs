using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Tests.Providers;

/// <summary><c>add server</c>, <c>enable health</c> and <c>del server</c> against a real HAProxy 2.6: what the pool relies on.</summary>
[Trait("Category", "Haproxy")]
public sealed class DynamicServerCommandsTests
{
    [Fact]
    public async Task AddEnableDelete_RealHaproxy_BehaveAsThePoolExpects()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync(
            """
            backend app
                balance roundrobin
                default-server check inter 1s weight 50
                server s1 127.0.0.1:1
            backend hashed
                balance source
                server h1 127.0.0.1:1
            """, dir);
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));

        await control.AddServerAsync("app", "auto1", "127.0.0.1", 8081, "weight 7");

        // It arrives in maintenance and does not inherit default-server (no check, not weight 50).
        ServerState added = (await control.ShowServersStateAsync("app")).Single(s => s.Server == "auto1");
        added.AdminState.Should().Be(ServerAdminState.Maint);
        (added.Address, added.Port, added.InitialWeight).Should().Be(("127.0.0.1", 8081, 7));
        (await control.ShowStatAsync()).Single(r => r.Server == "auto1").CheckStatus.Should().BeEmpty();

        Func<Task> again = () => control.AddServerAsync("app", "auto1", "127.0.0.1", 8081);
        (await again.Should().ThrowAsync<HaproxyControlException>()).Which.Answer.Should().Be("Already exists a server with the same name in backend.");
        Func<Task> staticAlgorithm = () => control.AddServerAsync("hashed", "auto1", "127.0.0.1", 8081);
        await staticAlgorithm.Should().ThrowAsync<HaproxyControlException>("a backend with a static algorithm takes no runtime server");

        await control.SetServerStateAsync("app", "auto1", ServerAdminState.Ready);
        Func<Task> deleteReady = () => control.DeleteServerAsync("app", "auto1");
        (await deleteReady.Should().ThrowAsync<HaproxyControlException>()).Which.Answer.Should().Be("Only servers in maintenance mode can be deleted.");

        await control.SetServerStateAsync("app", "auto1", ServerAdminState.Maint);
        await control.DeleteServerAsync("app", "auto1");
        (await control.ShowServersStateAsync("app")).Should().NotContain(s => s.Server == "auto1");
        Func<Task> deleteGone = () => control.DeleteServerAsync("app", "auto1");
        (await deleteGone.Should().ThrowAsync<HaproxyControlException>()).Which.Kind.Should().Be(HaproxyErrorKind.UnknownServer);

        // With "check" the health check is on only after "enable health".
        await control.AddServerAsync("app", "auto2", "127.0.0.1", 1, "check inter 200ms");
        await control.EnableHealthAsync("app", "auto2");
        await control.SetServerStateAsync("app", "auto2", ServerAdminState.Ready);
        await Poll.UntilAsync(() => control.ShowStatAsync().GetAwaiter().GetResult().Single(r => r.Server == "auto2").Status.StartsWith("DOWN", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "auto2's health check to find nothing listening");
    }

    [Theory]
    [InlineData("127.0.0.1", 0, "")]
    [InlineData("127.0.0.1;shutdown", 80, "")]
    [InlineData("127.0.0.1", 80, "check; disable server app/s1")]
    [InlineData("127.0.0.1", 80, "check # comment")]
    public async Task AddServer_UnsafeArguments_SendNothing(string host, int port, string keywords)
    {
        await using IHaproxyControl control = HaproxyControl.Create("/nonexistent/admin.sock");

        Func<Task> add = () => control.AddServerAsync("app", "auto1", host, port, keywords);

        (await add.Should().ThrowAsync<HaproxyControlException>()).Which.Kind.Should().Be(HaproxyErrorKind.InvalidArgument);
    }
}
