using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HaproxyAutoscale.Tests.Hosting;

[Trait("Category", "Haproxy")]
public sealed class HaproxyAutoscaleServiceCollectionTests
{
    [Fact]
    public async Task AddHaproxyAutoscale_FromConfigurationWithACustomPolicy_RunsAsAHostedServiceAgainstHaproxy()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync("""
            backend app
                server s1 127.0.0.1:1
                server s2 127.0.0.1:2 disabled
            """, dir);
        await File.WriteAllTextAsync(dir.File("appsettings.json"), $$"""
            { "HaproxyAutoscale": {
                "haproxy": { "endpoints": [ "{{dir.File("admin.sock")}}" ] },
                "logs": { "source": "udp@127.0.0.1:0" },
                "evaluationInterval": "100ms",
                "backends": { "app": {
                  "policy": { "kind": "one-up", "reason": "because the test says so" },
                  "minActive": 1,
                  "servers": { "s1": { "alwaysUp": true }, "s2": { "weight": 7 } } } } } }
            """);
        IConfiguration configuration = new ConfigurationBuilder().AddJsonFile(dir.File("appsettings.json")).Build();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHaproxyAutoscale(configuration.GetSection("HaproxyAutoscale"))
            .AddPolicy("one-up", settings => new OneUp(settings.GetDuration("delay", TimeSpan.Zero), settings.GetString("reason", "one up")));
        await using ServiceProvider provider = services.BuildServiceProvider();
        IHostedService service = provider.GetServices<IHostedService>().Single();

        await service.StartAsync(CancellationToken.None);
        await using IHaproxyControl control = HaproxyControl.Create(dir.File("admin.sock"));
        await Poll.UntilAsync(
            () => control.ShowServersStateAsync("app").GetAwaiter().GetResult().Single(s => s.Server == "s2").AdminState == ServerAdminState.Ready,
            TimeSpan.FromSeconds(10), "the custom policy to enable s2");
        (await control.ShowServersStateAsync("app")).Single(s => s.Server == "s2").UserWeight.Should().Be(7);
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AddHaproxyAutoscale_InvalidConfiguration_HostStartFailsListingEveryProblem()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["backends:app:servers:s1:weight"] = "many",
            ["backends:app:policy:kind"] = "nope",
            ["haproxy:endpoints:0"] = "udp@1.2.3.4:5",
        }).Build();
        var services = new ServiceCollection();
        services.AddHaproxyAutoscale(configuration);
        await using ServiceProvider provider = services.BuildServiceProvider();

        var start = () => provider.GetServices<IHostedService>().Single().StartAsync(CancellationToken.None);
        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should()
            .Contain("3 problem(s)")
            .And.Contain("haproxy.endpoints[0]: 'udp@1.2.3.4:5': unknown scheme")
            .And.Contain("backends.app.servers.s1.weight: expected an integer")
            .And.Contain("backends.app.policy.kind: unknown policy 'nope'");
    }

    [Fact]
    public async Task AddHaproxyAutoscale_OptionsInCodeBreakingRules_HostStartFailsListingEveryProblem()
    {
        // Regression: options built in code were never validated; a zero interval made the loop spin.
        AutoscaleOptions options = AutoscalerBuilderTests.ValidOptions();
        options.EvaluationInterval = TimeSpan.Zero;
        options.Backends[0].Servers[0].Weight = 0;
        options.Backends[0].Policy.Kind = "band";
        options.Backends[0].Policy.Settings["upperMs"] = "100";
        options.Backends[0].Policy.Settings["lowerMs"] = "300";
        var services = new ServiceCollection();
        services.AddHaproxyAutoscale(options);
        await using ServiceProvider provider = services.BuildServiceProvider();

        var start = () => provider.GetServices<IHostedService>().Single().StartAsync(CancellationToken.None);

        (await start.Should().ThrowAsync<AutoscaleOptionsException>()).Which.Errors.Should().Equal(
            "evaluationInterval: must be more than 0",
            "backends.app.policy.lowerMs: must be below upperMs (100)",
            "backends.app.servers.s1.weight: expected an integer from 1 to 256");
    }

    [Fact]
    public void AddHaproxyAutoscale_TryAddSemantics_KeepsWhatTheHostRegisteredAndAddsTheServiceOnce()
    {
        var services = new ServiceCollection();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        services.AddSingleton<TimeProvider>(time);
        services.AddHaproxyAutoscale(new AutoscaleOptions());
        services.AddHaproxyAutoscale(new AutoscaleOptions());
        using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(time);
        provider.GetServices<IHostedService>().Should().ContainSingle();
    }

    [Fact]
    public async Task UseLeaderElection_HaSection_TheFactoryCreatesTheElectionFromIt()
    {
        AutoscaleOptions options = OptionsWithHaSection();
        HighAvailabilityOptions? given = null;
        var services = new ServiceCollection();
        services.AddHaproxyAutoscale(options).UseLeaderElection((ha, _, _) =>
        {
            given = ha;
            return new HighAvailability.SwitchableElection();
        });
        await using ServiceProvider provider = services.BuildServiceProvider();

        provider.GetRequiredService<Autoscaler>().Should().NotBeNull();
        (given?.ElectionName, given?.Etcd.Single()).Should().Be(("lb-pair", "http://127.0.0.1:2379"));
    }

    /// <summary>Options an autoscaler can be built from without HAProxy running, with an <c>ha</c> section.</summary>
    internal static AutoscaleOptions OptionsWithHaSection()
    {
        var options = new AutoscaleOptions { Logs = { Source = "udp@127.0.0.1:0" } };
        options.Haproxy.Endpoints.Add("/nonexistent/admin.sock");
        options.HighAvailability = new HighAvailabilityOptions { ElectionName = "lb-pair" };
        options.HighAvailability.Etcd.Add("http://127.0.0.1:2379");
        var backend = new BackendOptions { Name = "app" };
        backend.Servers.Add(new ServerOptions { Name = "s1" });
        options.Backends.Add(backend);
        return options;
    }

    private sealed class OneUp(TimeSpan delay, string reason) : IScalingPolicy
    {
        private bool _done;

        public ScalingDecision Decide(ScalingContext context)
        {
            if (_done || context.Now - context.Started < delay)
            {
                return ScalingDecision.Hold(reason);
            }

            _done = true;
            return ScalingDecision.Up(1, reason);
        }
    }
}
