using HaproxyAutoscale.Checks;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>Enabling keeps the weights haproxy.cfg declares, and pre-flight checks report weights that differ.</summary>
[Trait("Category", "Haproxy")]
public sealed class WeightTests
{
    private static readonly IWarmup NoWarmup = new InstantWarmup();

    [Fact]
    public async Task Enable_NoWeightConfigured_RestoresHaproxyCfgWeight()
    {
        // HAProxy's default weight is 1: an enabled server must not get 10x the always-up server's share.
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(AlwaysUpPolicy.Configure, weight: null, build: (builder, _) =>
        {
            builder.Policies.Add(AlwaysUpPolicy.Name, _ => new AlwaysUpPolicy());
            builder.UseWarmup(NoWarmup);
        });

        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled");
        IReadOnlyList<ServerState> states = await rig.Control.ShowServersStateAsync("app");
        states.Select(s => (s.Server, s.UserWeight)).Should().Contain([("s1", 1), ("s2", 1)]);
    }

    [Fact]
    public async Task Enable_WeightConfigured_SetsIt_AndPreflightWarnsOfTheMismatch()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(backend =>
        {
            AlwaysUpPolicy.Configure(backend);
            backend.Servers.Single(s => s.Name == "s2").Weight = 10;
        }, weight: null, build: (builder, _) =>
        {
            builder.Policies.Add(AlwaysUpPolicy.Name, _ => new AlwaysUpPolicy());
            builder.UseWarmup(NoWarmup);
        });

        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled");
        (await rig.Control.ShowServersStateAsync("app")).Single(s => s.Server == "s2").UserWeight.Should().Be(10);

        IReadOnlyList<PreflightFinding> findings = await PreflightChecks.RunAsync(rig.Options, rig.Control);
        findings.Should().ContainSingle(f => f.Severity == PreflightSeverity.Warning).Which.Message.Should().Be(
            "backends.app: servers get unequal weights when enabled, so unequal shares of traffic: s1 1, s2 10 (weight in the autoscaler's configuration), s3 1");
        findings.Should().NotContain(f => f.Severity == PreflightSeverity.Problem);
    }

    private sealed class InstantWarmup : IWarmup
    {
        public Task<WarmupResult> WarmUpAsync(Uri url, CancellationToken cancellationToken) => Task.FromResult(new WarmupResult(true, "test", TimeSpan.Zero));
    }
}
