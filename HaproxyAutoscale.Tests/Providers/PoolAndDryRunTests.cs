using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.Providers;

public sealed class PoolAndDryRunTests
{
    [Theory]
    [InlineData("auto1", true)]
    [InlineData("auto3", true)]
    [InlineData("auto4", false)]
    [InlineData("auto0", false)]
    [InlineData("auto01", false)]
    [InlineData("auto", false)]
    [InlineData("autox", false)]
    [InlineData("s1", false)]
    public void IsSlotName_PrefixAndNumberUpToMax(string name, bool expected) =>
        PoolSlots.IsSlotName(new ServerPoolOptions { Prefix = "auto", Max = 3 }, name).Should().Be(expected);

    [Fact]
    public void Expand_AppendsSlotsAfterTheConfiguredServers()
    {
        var backend = new BackendOptions { Name = "app", Pool = new ServerPoolOptions { Prefix = "web", Max = 2 } };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });

        PoolSlots.Expand(backend);

        backend.Servers.Select(s => s.Name).Should().Equal("s1", "web1", "web2");
        backend.EffectiveMaxActive.Should().Be(3);
    }

    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("app-3.internal:80", true)]
    [InlineData("[::1]:8080", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.0.0.1:0", false)]
    [InlineData("127.0.0.1:70000", false)]
    [InlineData("::1:8080", false)]
    [InlineData("a b:80", false)]
    [InlineData("container started", false)]
    public void ServerAddress_TryParse_HostPortOnly(string text, bool expected) => ServerAddress.TryParse(text, out _, out _).Should().Be(expected);

    [Fact]
    public async Task DryRun_StartAndStopAreNotRun_StatusIs()
    {
        using var apps = new ScriptedApps();
        var logs = new ListLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        var errors = new List<string>();
        IServerProvider real = new ServerProviderRegistry().TryCreate(new ServerProviderSettings("app", apps.Provider(TimeSpan.Zero)), errors)!;
        var dryRun = new DryRunServerProvider(real, loggers.CreateLogger("test"));
        var target = new ServerProviderTarget("app", "s2");

        (await dryRun.StartAsync(target, CancellationToken.None)).Address.Should().BeNull();
        await dryRun.StopAsync(target, CancellationToken.None);
        (await dryRun.GetStatusAsync(target, CancellationToken.None)).Should().Be(ServerRunState.Stopped);

        apps.Starts().Should().Be(0);
        apps.Stops().Should().Be(0);
        logs.Entries.Select(e => e.Message).Should().Equal("app/s2: dry run, the provider's start was not run", "app/s2: dry run, the provider's stop was not run");
    }
}
