using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Etcd;
using HaproxyAutoscale.HighAvailability;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace HaproxyAutoscale.Tests.HighAvailability;

/// <summary>The <c>ha</c> section, the builder's rule, and the leader-only control against a real HAProxy.</summary>
[Trait("Category", "Haproxy")]
public sealed class HighAvailabilityUnitTests
{
    private const string Backends = """
        "haproxy": { "endpoints": ["/run/haproxy/admin.sock"] },
        "backends": { "app": { "servers": { "s1": { "alwaysUp": true }, "s2": {} } } }
        """;

    [Fact]
    public void Parse_HaSection_ReadsEveryKey()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse($$"""
            { {{Backends}},
              "ha": { "etcd": ["http://10.0.0.1:2379", "http://10.0.0.2:2379"], "electionName": "lb-pair", "leaseTtl": "5s", "replica": "lb1" } }
            """);
        result.Errors.Should().BeEmpty();
        HighAvailabilityOptions ha = result.Options!.HighAvailability!;
        (ha.ElectionName, ha.LeaseTtl, ha.Replica).Should().Be(("lb-pair", TimeSpan.FromSeconds(5), "lb1"));
        ha.Etcd.Should().Equal("http://10.0.0.1:2379", "http://10.0.0.2:2379");
    }

    [Fact]
    public void Parse_NoHaSection_ActsAlone()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse($$"""{ {{Backends}} }""");
        result.Errors.Should().BeEmpty();
        result.Options!.HighAvailability.Should().BeNull();
    }

    [Fact]
    public void Parse_BadHaSection_EveryProblemWithItsPath()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse($$"""
            { {{Backends}}, "ha": { "etcd": ["10.0.0.1:2379", "http://10.0.0.2:2379/v3"], "electionName": " ", "leaseTtl": "1500ms", "ttl": "5s" } }
            """);
        result.Errors.Should().Contain(e => e.StartsWith("ha.ttl: ", StringComparison.Ordinal));

        result = AutoscaleConfiguration.Parse($$"""
            { {{Backends}}, "ha": { "etcd": ["10.0.0.1:2379", "http://10.0.0.2:2379/v3"], "electionName": " ", "leaseTtl": "1500ms" } }
            """);
        result.Errors.Should().Equal(
            "ha.etcd[0]: expected an etcd client URL such as \"http://127.0.0.1:2379\"",
            "ha.etcd[1]: expected an etcd client URL such as \"http://127.0.0.1:2379\"",
            "ha.electionName: expected a name (one line of text)",
            "ha.leaseTtl: expected whole seconds, at least 2s (etcd's lease TTL)");

        AutoscaleConfiguration.Parse($$"""{ {{Backends}}, "ha": { } }""").Errors
            .Should().Equal("ha.etcd: at least one etcd client URL is needed, e.g. [\"http://127.0.0.1:2379\"]");
    }

    [Fact]
    public void Build_HaSectionWithoutAnElection_ClearError()
    {
        var options = new AutoscaleOptions { Logs = { Source = "-" } };
        options.Haproxy.Endpoints.Add("/nonexistent/admin.sock");
        options.HighAvailability = new HighAvailabilityOptions();
        options.HighAvailability.Etcd.Add("http://127.0.0.1:2379");
        var backend = new BackendOptions { Name = "app" };
        backend.Servers.Add(new ServerOptions { Name = "s1" });
        options.Backends.Add(backend);

        Action build = () => new AutoscalerBuilder(options).Build();
        build.Should().Throw<InvalidOperationException>().WithMessage("ha: active/standby needs a leader election*UseEtcdLeaderElection()*");
    }

    [Fact]
    public void Evaluate_StandbyHoldsAScaleUp_ThePolicyHearsItSoItsBreachesStillCount()
    {
        // Without the hold reported (as under a pause), threshold restarted its breach count on a standby, and a
        // takeover could wait up to `breaches` more evaluations before its first scale-up.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 26, 15, 0, 0, TimeSpan.Zero));
        var options = new BackendOptions { Name = "app", Policy = { Kind = ScalingPolicyNames.Threshold } };
        options.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        options.Servers.Add(new ServerOptions { Name = "s2" });
        ScaledBackend backend = ScaledBackend.Create(options, new ScalingPolicyRegistry(), new ResponseTimeWindowRegistry(), time);
        var logs = new ListLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        ILogger logger = loggers.CreateLogger("test");
        using var metrics = new AutoscaleMetrics(() => [], () => []);
        var evaluation = new BackendEvaluation([new PauseStep(logger), new LeaderRole(new SwitchableElection(), logger, metrics.Meter)], logger, metrics);
        var parser = new HaproxyLogParser();

        // Each interval, a request that queued 5 ms (Tw): saturated, a breach of threshold's default 3.
        ScalingPlan Evaluate()
        {
            parser.TryParse("Nov 26 15:00:00 lb1 haproxy[1]: 127.0.0.1:5 [26/Nov/2026:15:00:00.000] fe app/s1 0/5/0/40/45 200 1 - - ---- 1/1/0/0/0 0/0 \"GET / HTTP/1.1\""u8, out RequestRecord record).Should().BeTrue();
            lock (backend.Gate)
            {
                backend.Decider.OnRecord(record);
            }

            time.Advance(TimeSpan.FromSeconds(1));
            return evaluation.Decide(backend);
        }

        Evaluate().Decision.Reason.Should().EndWith("breach 1 of 3");
        Evaluate().Decision.Reason.Should().EndWith("breach 2 of 3");
        ScalingPlan held = Evaluate();
        (held.Decision.Action, held.HeldBy, held.Decision.Reason).Should().Be((ScalingAction.Hold, "standby",
            "saturated (<NOSRV> or queueing) on 3 consecutive evaluations, but this replica is a standby (the leader acts)"));
        logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.StandbyDecision);

        ScalingPlan next = Evaluate();
        (next.HeldBy, next.Decision.Reason).Should().Be(("standby",
            "saturated (<NOSRV> or queueing) on 3 consecutive evaluations, but this replica is a standby (the leader acts)"), "the held breaches still count");
    }

    [Fact]
    public async Task AddHaproxyAutoscale_HaSection_UseEtcdLeaderElectionProvidesTheElection()
    {
        AutoscaleOptions options = Hosting.HaproxyAutoscaleServiceCollectionTests.OptionsWithHaSection();
        var alone = new ServiceCollection();
        alone.AddHaproxyAutoscale(options);
        await using (ServiceProvider provider = alone.BuildServiceProvider())
        {
            Action resolve = () => provider.GetRequiredService<Autoscaler>();
            resolve.Should().Throw<InvalidOperationException>().WithMessage("ha: active/standby needs a leader election*UseEtcdLeaderElection()*");
        }

        var replicas = new ServiceCollection();
        replicas.AddHaproxyAutoscale(options).UseEtcdLeaderElection();
        await using (ServiceProvider provider = replicas.BuildServiceProvider())
        {
            provider.GetRequiredService<Autoscaler>().Should().NotBeNull();
        }
    }

    [Fact]
    public async Task LeaderOnlyControl_Standby_RefusesWritesAndSendsNothing_ReadsGoThrough_LeaderSendsWithItsEpoch()
    {
        using var dir = new TempDirectory();
        await using Haproxy haproxy = await Haproxy.StartWithAdminSocketAsync("""
            backend app
                server s1 127.0.0.1:1 disabled
            """, dir);
        var election = new SwitchableElection();
        var logs = new ListLoggerProvider();
        using ILoggerFactory loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using IHaproxyControl socket = HaproxyControl.Create(dir.File("admin.sock"));
        IHaproxyControl control = new LeaderOnlyHaproxyControl(socket, election, loggers.CreateLogger("test"));

        Func<Task> enable = () => control.EnableServerAsync("app", "s1");
        (await enable.Should().ThrowAsync<HaproxyControlException>()).Which.Should().Match<HaproxyControlException>(e =>
            e.Kind == HaproxyErrorKind.NotLeader && e.Endpoint == dir.File("admin.sock") && e.Command == "enable server app/s1" && e.Answer.Contains("b leads (epoch 7)"));
        (await control.ShowServersStateAsync("app")).Single().AdminState.Should().Be(ServerAdminState.Maint, "nothing was sent");
        IReadOnlyList<CommandResult> batch = await control.ExecuteBatchAsync(["show info", "enable server app/s1"]);
        (batch[0].Succeeded, batch[1].Error?.Kind).Should().Be((true, HaproxyErrorKind.NotLeader));
        logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.NotLeaderRefused && e.Message.Contains("enable server app/s1", StringComparison.Ordinal));

        election.State = new LeadershipState(true, 12, "a leads");
        await control.EnableServerAsync("app", "s1");
        (await control.ShowServersStateAsync("app")).Single().AdminState.Should().Be(ServerAdminState.Ready);
        logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.LeaderCommand && e.Message.EndsWith("leader epoch 12 sends: enable server app/s1", StringComparison.Ordinal));
    }
}

/// <summary>A custom election (the public extension point), switched by the test.</summary>
internal sealed class SwitchableElection : ILeaderElection
{
    private volatile LeadershipState _state = LeadershipState.Standby("b leads (epoch 7)");

    public LeadershipState State
    {
        get => _state;
        set => _state = value;
    }

    public string Description => "test election";

    public LeadershipState Current => State;

    public int Runs { get; private set; }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Runs++;
        await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
