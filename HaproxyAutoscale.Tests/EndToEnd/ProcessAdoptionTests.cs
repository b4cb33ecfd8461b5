using System.Text.RegularExpressions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// A start's questions to the providers (is each parked server running?) against a real HAProxy: they run beside the
/// evaluation loop, a few at a time, and a fleet's answers are logged in a summary (10,000 backends have 70,000 parked
/// servers: asked one by one before the start, they held systemd's READY for minutes).
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ProcessAdoptionTests
{
    [Fact]
    public async Task Start_ProviderSlowToAnswer_TheEngineRunsAndAScaleUpStartsTheServerFirst_ThenTheAnswerIsAdopted()
    {
        var provider = new AnsweringProvider();
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(
            backend =>
            {
                backend.Provider = new ServerProviderOptions { Kind = "answering", KeepWarm = TimeSpan.FromHours(1) };
                backend.Schedule.Add(new ScheduledFloorOptions { Cron = "* * * * *", For = TimeSpan.FromMinutes(10), MinActive = 2 }); // one scale-up at once
            },
            build: (builder, _) => builder.UseProviders(new ServerProviderRegistry().Add("answering", _ => provider)));

        // Neither status question is answered, yet the engine started and the floor's scale-up of s2 happened: s2
        // counted as stopped, so it was started through the provider before it was enabled.
        await rig.Autoscaler.Started.WaitAsync(TimeSpan.FromSeconds(10));
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled by the floor while its status question is open");
        await Poll.UntilAsync(() => provider.Asked.Contains("s3"), TimeSpan.FromSeconds(10), "s3's status asked (s2's too, unless the scale-up took it first)");
        provider.Started.Should().Equal("s2");
        Lifecycle(rig, "s3").Should().Be(ServerLifecycleState.Stopped, "not known to run until the provider says so");

        provider.Answer(ServerRunState.Running);

        await Poll.UntilAsync(() => Lifecycle(rig, "s3") == ServerLifecycleState.Parked, TimeSpan.FromSeconds(10), "s3 adopted as kept warm");
        Lifecycle(rig, "s2").Should().Be(ServerLifecycleState.Active, "the scale-up's, not the late answer's");
        rig.Logs.Where(l => l.EventId == AutoscaleEventIds.ProcessAdopted).Select(l => l.Message).Should().Equal("app/s3: the provider reports it running: adopted as parked");
        provider.Stopped.Should().BeEmpty();
    }

    [Fact]
    public async Task Start_ManyParkedServers_AskedAFewAtATimeAndSummarized()
    {
        var provider = new AnsweringProvider(TimeSpan.FromSeconds(1));
        await using AutoscaleRig rig = await StartFleetAsync(provider, keepWarm: TimeSpan.FromHours(1));

        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.ProcessesAdopted), TimeSpan.FromSeconds(20), "the adoption's summary");
        provider.MostAtOnce.Should().Be(KeepWarm.CallsAtOnce, "26 questions of a second each, {0} at a time", KeepWarm.CallsAtOnce);
        var adopted = rig.Logs.Where(l => l.EventId == AutoscaleEventIds.ProcessAdopted).ToList();
        adopted.Should().HaveCount(26);
        adopted.Count(l => l.Level == LogLevel.Information).Should().Be(Adoptions.LoggedEach, "answers come in together: the level is by count, not order");
        adopted.Count(l => l.Level == LogLevel.Debug).Should().Be(26 - Adoptions.LoggedEach);
        string summary = rig.Logs.Single(l => l.EventId == AutoscaleEventIds.ProcessesAdopted).Message;
        summary.Should().MatchRegex(@"^Asked the providers about 26 parked servers in [0-9.]+s: 26 running, 0 stopped, 0 unknown, 0 taken by an action meanwhile or not answered \(the first 20 logged one by one, the rest at debug level\)$");
        Regex.Match(summary, "in ([0-9.]+)s").Groups[1].Value.Should().NotBe("0", "two rounds of one-second answers");
        rig.Autoscaler.Snapshot().SelectMany(b => b.Servers).Where(s => s.Name != "s1").Should().OnlyContain(s => s.Lifecycle == ServerLifecycleState.Parked);
    }

    [Fact]
    public async Task KeepWarmOver_ManyStopsAtOnce_TheFirstLoggedOneByOneAndTheRestInOneLine()
    {
        var provider = new AnsweringProvider(TimeSpan.Zero);
        await using AutoscaleRig rig = await StartFleetAsync(provider, keepWarm: TimeSpan.Zero);

        await Poll.UntilAsync(() => rig.Logs.Any(l => l.EventId == AutoscaleEventIds.StoppedMany), TimeSpan.FromSeconds(20), "the stops' summary");
        provider.Stopped.Should().HaveCount(26, "every parked server was running and kept warm for no time");
        var stopped = rig.Logs.Where(l => l.EventId == AutoscaleEventIds.ServerStopped).ToList();
        stopped.Should().HaveCount(26);
        stopped.Count(l => l.Level == LogLevel.Information).Should().Be(LineBudget.PerMinute, "stops run together: the level is by count, not order");
        stopped.Count(l => l.Level == LogLevel.Debug).Should().Be(26 - LineBudget.PerMinute);
        rig.Logs.Single(l => l.EventId == AutoscaleEventIds.StoppedMany).Message.Should().MatchRegex(
            @"^Stopped 6 more servers kept warm since \d\d:\d\d:\d\d UTC, logged at debug level \(past 20 a minute, stops are not logged one by one\)$");
    }

    // "app" (s2, s3 parked) and twelve more backends like it, every one with the provider: 26 parked servers.
    private static Task<AutoscaleRig> StartFleetAsync(AnsweringProvider provider, TimeSpan keepWarm)
    {
        string[] more = [.. Enumerable.Range(0, 12).Select(i => $"more{i}")];
        return AutoscaleRig.StartAsync(
            backend => backend.Provider = new ServerProviderOptions { Kind = "answering", KeepWarm = keepWarm },
            build: (builder, _) => builder.UseProviders(new ServerProviderRegistry().Add("answering", _ => provider)),
            configureOptions: options =>
            {
                foreach (string name in more)
                {
                    options.Backends.Add(new BackendOptions
                    {
                        Name = name,
                        Provider = new ServerProviderOptions { Kind = "answering", KeepWarm = keepWarm },
                        Servers = { new ServerOptions { Name = "s1", AlwaysUp = true }, new ServerOptions { Name = "s2" }, new ServerOptions { Name = "s3" } },
                    });
                }
            },
            configureHaproxy: (config, rig) =>
            {
                foreach (string name in more)
                {
                    config.Backends.Add(HaproxyBackend.FirstUp(name, [("s1", rig.Apps[0].Port), ("s2", rig.Apps[1].Port), ("s3", rig.Apps[2].Port)]));
                }
            });
    }

    private static ServerLifecycleState Lifecycle(AutoscaleRig rig, string server) =>
        rig.Autoscaler.Snapshot("app")!.Servers.Single(s => s.Name == server).Lifecycle;

    // Answers status questions after `delay`, or when the test says (no delay); starts and stops at once; records it all.
    private sealed class AnsweringProvider(TimeSpan? delay = null) : IServerProvider
    {
        private readonly TaskCompletionSource<ServerRunState> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _gate = new();
        private readonly List<string> _asked = [], _started = [], _stopped = [];
        private int _open;

        public int MostAtOnce { get; private set; }

        public IReadOnlyList<string> Asked => Copy(_asked);

        public IReadOnlyList<string> Started => Copy(_started);

        public IReadOnlyList<string> Stopped => Copy(_stopped);

        public void Answer(ServerRunState state) => _answer.SetResult(state);

        public async Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                _asked.Add(target.Server);
                MostAtOnce = Math.Max(MostAtOnce, ++_open);
            }

            try
            {
                if (delay is { } wait)
                {
                    await Task.Delay(wait, cancellationToken); // zero: at once
                    return ServerRunState.Running;
                }

                return await _answer.Task.WaitAsync(cancellationToken);
            }
            finally
            {
                lock (_gate)
                {
                    _open--;
                }
            }
        }

        public Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken)
        {
            Record(_started, target);
            return Task.FromResult(new ServerStartResult(null));
        }

        public Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken)
        {
            Record(_stopped, target);
            return Task.CompletedTask;
        }

        private void Record(List<string> list, ServerProviderTarget target)
        {
            lock (_gate)
            {
                list.Add(target.Backend == "app" ? target.Server : $"{target.Backend}/{target.Server}");
            }
        }

        private IReadOnlyList<string> Copy(List<string> list)
        {
            lock (_gate)
            {
                return [.. list];
            }
        }
    }
}
