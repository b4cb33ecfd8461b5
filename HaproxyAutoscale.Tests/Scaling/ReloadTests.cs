using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.Scaling;

/// <summary>
/// <see cref="Autoscaler.ReloadAsync(AutoscaleOptions, CancellationToken)"/> on a running engine that reads real UDP
/// datagrams; its HAProxy endpoint answers nothing (a socket path nobody listens on), so no server is ever acted on
/// and every server state seen is the engine's own.
/// </summary>
public sealed class ReloadTests
{
    [Fact]
    public async Task ReloadAsync_InvalidConfiguration_RejectedWithEveryKeyPathAndRunningOneKept()
    {
        await using var engine = await Engine.StartAsync();
        AutoscaleOptions wanted = engine.Options();
        wanted.EvaluationInterval = TimeSpan.Zero;
        wanted.Backends[0].Policy.Settings["thresholdMs"] = "fast";
        wanted.Backends.Add(new BackendOptions { Name = "extra", Window = { Kind = "sliding" } });

        ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);

        result.Applied.Should().BeFalse();
        result.Errors.Should().Contain("evaluationInterval: must be more than 0")
            .And.Contain(e => e.StartsWith("backends.app.policy.thresholdMs:", StringComparison.Ordinal))
            .And.Contain(e => e.StartsWith("backends.extra.window.kind:", StringComparison.Ordinal));
        engine.Autoscaler.Snapshot().Select(b => b.Backend).Should().Equal("app");
        engine.Meters.Total("reloads", "outcome=rejected").Should().Be(1);
        engine.Logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.ReloadRejected && e.Message.Contains("evaluationInterval: must be more than 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReloadAsync_BackendAddedAndRemoved_UnchangedOneKeepsItsObjectAndSamples()
    {
        await using var engine = await Engine.StartAsync(extra: true);
        ScaledBackend app = engine.Autoscaler.Backends.Single(b => b.Name == "app");
        BackendOptions appConfigured = engine.Autoscaler.Configured.Backends.Single(b => b.Name == "app");
        await engine.SendAsync(40);
        int samples = engine.Autoscaler.Snapshot().Single(b => b.Backend == "app").Window.SampleCount;
        AutoscaleOptions wanted = engine.Options();
        wanted.Backends.Remove(wanted.Backends.Single(b => b.Name == "old"));
        var added = new BackendOptions { Name = "new" };
        added.Servers.Add(new ServerOptions { Name = "n1" });
        wanted.Backends.Add(added);

        ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);

        result.Applied.Should().BeTrue(string.Join("; ", result.Errors));
        result.Added.Should().Equal("new");
        result.Removed.Should().Equal("old");
        result.Changed.Should().BeEmpty();
        result.Unchanged.Should().Be(1);
        result.Summary.Should().Be("added new; removed old; unchanged 1");
        engine.Autoscaler.Backends.Select(b => b.Name).Should().Equal("app", "new");
        engine.Autoscaler.Backends[0].Should().BeSameAs(app, "an unchanged backend keeps everything it knows");
        // The reload's copies of an unchanged backend are not kept beside the objects it runs on.
        engine.Autoscaler.Configured.Backends[0].Should().BeSameAs(appConfigured);
        engine.Autoscaler.Engine.Backends[0].Should().BeSameAs(app.Options);
        engine.Autoscaler.Snapshot()[0].Window.SampleCount.Should().Be(samples);
        engine.Autoscaler.Backends[1].Servers.IsUnadopted("n1").Should().BeTrue("a new backend's servers are not acted on before HAProxy's state is adopted");
        engine.Meters.Total("reloads", "outcome=applied").Should().Be(1);
        engine.Logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.ReloadApplied && e.Message == "Reload applied: added new; removed old; unchanged 1");

        await engine.SendAsync(10);
        engine.Autoscaler.Snapshot()[0].Window.SampleCount.Should().Be(samples + 10, "lines keep reaching the backend after the swap");
    }

    [Fact]
    public async Task ReloadAsync_PolicyChanged_ServersWindowAndLoggedRequestsCarriedOver()
    {
        await using var engine = await Engine.StartAsync();
        ScaledBackend app = engine.Autoscaler.Backends.Single();
        await engine.SendAsync(30);
        BackendSnapshot before = engine.Autoscaler.Snapshot().Single();
        BackendDecider decider = app.Decider;
        AutoscaleOptions wanted = engine.Options();
        wanted.Backends[0].Policy.Settings["thresholdMs"] = "900";
        wanted.Backends[0].Servers.Add(new ServerOptions { Name = "s4" });

        ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);

        result.Changed.Should().ContainSingle().Which.Should().BeEquivalentTo(new ChangedBackend("app", ["policy", "servers"]));
        engine.Autoscaler.Backends.Single().Should().BeSameAs(app);
        app.Decider.Should().NotBeSameAs(decider);
        app.Decider.Window.Should().BeSameAs(decider.Window, "the window did not change: its samples stay");
        app.Decider.LoggedRequests.Should().Be(30, "log coverage compares the requests logged since the start with HAProxy's counters");
        BackendSnapshot after = engine.Autoscaler.Snapshot().Single();
        after.Window.SampleCount.Should().Be(before.Window.SampleCount);
        after.Servers.Take(3).Select(s => (s.Name, s.Lifecycle, s.Since)).Should().Equal(before.Servers.Select(s => (s.Name, s.Lifecycle, s.Since)), "no server changes state because of a reload");
        after.Servers.Select(s => s.Name).Should().Equal("s1", "s2", "s3", "s4");
        app.Servers.IsUnadopted("s4").Should().BeTrue();
    }

    [Fact]
    public async Task ReloadAsync_RestartOnlySettingsChanged_NamedAndKeptTheRestApplied()
    {
        await using var engine = await Engine.StartAsync();
        AutoscaleOptions wanted = engine.Options();
        wanted.Haproxy.Endpoints[0] = "/run/elsewhere.sock";
        wanted.CounterInterval = TimeSpan.FromSeconds(7);
        wanted.Warmup.Attempts = 9;
        wanted.Logs.MinCoverage = 0.9;
        wanted.Backends[0].Window.Size = 50;

        ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);

        result.Applied.Should().BeTrue();
        result.RestartRequired.Should().Equal("haproxy.endpoints", "warmup.attempts", "logs.minCoverage", "counterInterval");
        result.Changed.Should().ContainSingle().Which.Keys.Should().Equal("window");
        result.Summary.Should().Be("changed app (window); unchanged 0; needs a restart (running values kept) haproxy.endpoints, warmup.attempts, logs.minCoverage, counterInterval");
        engine.Logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.ReloadNeedsRestart && e.Message.Contains("haproxy.endpoints", StringComparison.Ordinal));

        // The running values stay what the engine compares with: the same file again changes nothing more.
        ReloadResult again = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);
        (again.Changed.Count, again.Unchanged).Should().Be((0, 1));
        again.RestartRequired.Should().HaveCount(4, "they still differ from what runs");
    }

    [Fact]
    public async Task ReloadAsync_LogSourceChanged_NewOneBoundOldOneStoppedLinesCountedAcrossBoth()
    {
        await using var engine = await Engine.StartAsync();
        await engine.SendAsync(20);
        int newPort = Ports.FreeUdp();
        AutoscaleOptions wanted = engine.Options();
        wanted.Logs.Source = $"udp@127.0.0.1:{newPort.ToString(CultureInfo.InvariantCulture)}";

        ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);

        result.LogSource.Should().Be($"re-bound to udp@127.0.0.1:{newPort.ToString(CultureInfo.InvariantCulture)}");
        engine.Port = newPort;
        await engine.SendAsync(15);
        engine.Autoscaler.LogCounters.Lines.Should().Be(35, "the lines of the old source and the new one count together");
        engine.Autoscaler.Backends.Single().Decider.LoggedRequests.Should().Be(35);
    }

    [Fact]
    public async Task ReloadAsync_InUseLogAddress_RejectedAndTheOldSourceKeptReading()
    {
        await using var engine = await Engine.StartAsync();
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        AutoscaleOptions wanted = engine.Options();
        wanted.Logs.Source = $"udp@{taken.LocalEndPoint}";
        wanted.Backends[0].Policy.Settings["thresholdMs"] = "900";

        ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);

        result.Applied.Should().BeFalse();
        result.Errors.Should().ContainSingle().Which.Should().StartWith($"logs.source: cannot listen on udp@{taken.LocalEndPoint}:");
        engine.Autoscaler.Backends.Single().Options.Policy.Settings["thresholdMs"].Should().Be("150", "nothing of a rejected reload applies");
        await engine.SendAsync(5);
    }

    [Fact]
    public async Task ReloadAsync_AllowFromChanged_TheSourceRejectsSendersAtOnce()
    {
        await using var engine = await Engine.StartAsync();
        await engine.SendAsync(5);
        AutoscaleOptions wanted = engine.Options();
        wanted.Logs.AllowFrom.Clear();
        wanted.Logs.AllowFrom.Add("10.0.0.0/8");

        ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);

        result.LogSource.Should().EndWith("accepts 10.0.0.0/8");
        await engine.SendAsync(5, expected: 0);
        await Poll.UntilAsync(() => engine.Autoscaler.LogCounters.Rejected == 5, TimeSpan.FromSeconds(5), "5 datagrams rejected");
    }

    [Fact]
    public async Task ReloadAsync_ManyPolicyChanges_NoReplacedDeciderIsKept()
    {
        // A SIGHUP that changes a backend replaces its decider (and policy); whatever the new one carries over must
        // not hold the old one, or every reload would keep one more (the soak sends one every 3 minutes for months).
        await using var engine = await Engine.StartAsync();
        await engine.SendAsync(10);
        List<WeakReference> replaced = await ReloadAsync(engine, reloads: 40);

        await Poll.UntilAsync(() =>
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return replaced.TrueForAll(r => !r.IsAlive);
        }, TimeSpan.FromSeconds(5), "every replaced decider collected");
        engine.Autoscaler.Backends.Single().Decider.LoggedRequests.Should().Be(10, "what the deciders learned was carried over each time");
    }

    // Reloads with a changed threshold; weak references to the deciders replaced, but the last one (an evaluation pass
    // may still hold it for a moment). Not inlined: no local of the caller keeps a decider alive.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<List<WeakReference>> ReloadAsync(Engine engine, int reloads)
    {
        var replaced = new List<WeakReference>();
        for (int i = 0; i < reloads; i++)
        {
            if (i < reloads - 1)
            {
                replaced.Add(new WeakReference(engine.Autoscaler.Backends.Single().Decider));
            }

            AutoscaleOptions wanted = engine.Options();
            wanted.Backends[0].Policy.Settings["thresholdMs"] = (200 + i).ToString(CultureInfo.InvariantCulture);
            ReloadResult result = await engine.Autoscaler.ReloadAsync(wanted, CancellationToken.None);
            result.Changed.Should().ContainSingle();
        }

        return replaced;
    }

    /// <summary>A running autoscaler with backend <c>app</c> (s1 always up, s2, s3; optionally <c>old</c>) on a builder-made UDP log source.</summary>
    private sealed class Engine : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();
        private readonly CancellationTokenSource _stop = new();
        private readonly ILoggerFactory _loggers;
        private readonly AutoscaleOptions _options = new() { EvaluationInterval = TimeSpan.FromMilliseconds(100) };
        private Task _running = Task.CompletedTask;

        private Engine() => _loggers = LoggerFactory.Create(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));

        public ListLoggerProvider Logs { get; } = new();

        public MeterRecorder Meters { get; } = new();

        public Autoscaler Autoscaler { get; private set; } = null!;

        public int Port { get; set; }

        public static async Task<Engine> StartAsync(bool extra = false)
        {
            var engine = new Engine { Port = Ports.FreeUdp() };
            AutoscaleOptions options = engine._options;
            options.Haproxy.Endpoints.Add(engine._dir.File("nobody.sock"));
            options.Logs.Source = $"udp@127.0.0.1:{engine.Port.ToString(CultureInfo.InvariantCulture)}";
            var app = new BackendOptions { Name = "app", Policy = { Kind = "threshold" } };
            app.Policy.Settings["thresholdMs"] = "150";
            app.Window.Size = 100;
            app.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
            app.Servers.Add(new ServerOptions { Name = "s2" });
            app.Servers.Add(new ServerOptions { Name = "s3" });
            options.Backends.Add(app);
            if (extra)
            {
                var old = new BackendOptions { Name = "old" };
                old.Servers.Add(new ServerOptions { Name = "o1" });
                options.Backends.Add(old);
            }

            engine.Autoscaler = new AutoscalerBuilder(options).UseLoggerFactory(engine._loggers).UseMeterFactory(engine.Meters).Build();
            engine._running = engine.Autoscaler.RunAsync(engine._stop.Token);
            await Poll.UntilAsync(() => engine.Logs.Entries.Any(e => e.EventId == AutoscaleEventIds.ReconcileFailed), TimeSpan.FromSeconds(5), "the first reconcile");
            return engine;
        }

        /// <summary>A deep copy of the options the engine started with, to change and reload.</summary>
        public AutoscaleOptions Options() => OptionsCopy.Of(_options);

        /// <summary>Sends <paramref name="count"/> request logs of app/s1 (100 ms each) and waits until the engine counted <paramref name="expected"/> more lines.</summary>
        public async Task SendAsync(int count, int? expected = null)
        {
            long before = Autoscaler.LogCounters.Lines;
            using var writer = new StringWriter();
            LogGenerator.WritePhases(writer, DateTime.UtcNow, "app", "s1", (TimeSpan.FromSeconds(count), 1, 100));
            using var client = new UdpClient();
            foreach (string line in writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                await client.SendAsync(Encoding.ASCII.GetBytes(line), new IPEndPoint(IPAddress.Loopback, Port));
            }

            long wanted = before + (expected ?? count);
            await Poll.UntilAsync(() => Autoscaler.LogCounters.Lines >= wanted, TimeSpan.FromSeconds(5), $"{wanted} lines read");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _running;
            await Autoscaler.DisposeAsync();
            Meters.Dispose();
            _loggers.Dispose();
            _stop.Dispose();
            _dir.Dispose();
        }
    }
}
