using HaproxyAutoscale.Control;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.EndToEnd;

/// <summary>
/// Each extension point throws, through the public API, against a real HAProxy: the exception is logged with backend
/// and server (event 15) and the backend keeps scaling with its other servers.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class ExtensionFaultTests
{
    [Fact]
    public async Task Warmup_Throws_ServerParkedWithBackoff_NextServerEnabled()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(AlwaysUpPolicy.Configure, build: (builder, rig) =>
        {
            builder.Policies.Add("always-up", _ => new AlwaysUpPolicy());
            builder.UseWarmup(new ThrowingWarmup(url => url.Port == rig.Apps[1].Port));
        });

        await rig.WaitForStatusAsync("s3", s => s != "MAINT", "enabled instead of s2");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ExtensionFailed
            && l.Message.StartsWith("app/s2: warmup threw InvalidOperationException: warm-up bug", StringComparison.Ordinal));
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ActionFailed && l.Message.StartsWith("app/s2: up failed", StringComparison.Ordinal)
            && l.Message.EndsWith("retried after 30s", StringComparison.Ordinal));
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s2", ServerRole.Parked), "not stuck warming");
    }

    [Fact]
    public async Task Control_ThrowsAnUnexpectedException_ServerParkedWithBackoff_NextServerEnabled()
    {
        IHaproxyControl? control = null;
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(AlwaysUpPolicy.Configure, build: (builder, rig) =>
        {
            builder.Policies.Add("always-up", _ => new AlwaysUpPolicy());
            builder.UseWarmup(new ThrowingWarmup(_ => false));
            builder.UseControl(control = new ThrowingControl(HaproxyControl.Create(rig.Endpoint), "app/s2"));
        });
        await using IHaproxyControl supplied = control!; // the caller's: the autoscaler does not dispose it

        await rig.WaitForStatusAsync("s3", s => s != "MAINT", "enabled instead of s2");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.ExtensionFailed
            && l.Message.StartsWith("app/s2: control threw IOException: control bug", StringComparison.Ordinal));
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");
        rig.Autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Contain(("s2", ServerRole.Parked));
    }

    [Fact]
    public async Task Policy_Throws_BackendHolds_ThenScalesWhenThePolicyRecovers()
    {
        var policy = new AlwaysUpPolicy { Throwing = true };
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(AlwaysUpPolicy.Configure, build: (builder, _) =>
        {
            builder.Policies.Add("always-up", _ => policy);
            builder.UseWarmup(new ThrowingWarmup(_ => false));
        });

        await Poll.UntilAsync(() => rig.Logs.Count(l => l.EventId == AutoscaleEventIds.ExtensionFailed) >= 2, TimeSpan.FromSeconds(10), "two contained policy failures");
        rig.Logs.First(l => l.EventId == AutoscaleEventIds.ExtensionFailed).Message.Should().Be("app/-: policy threw InvalidOperationException: policy bug; contained (counted in extension_failures)");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.Hold && l.Message == "app: hold: the policy failed (InvalidOperationException: policy bug): holding");
        rig.Logs.Should().NotContain(l => l.EventId == AutoscaleEventIds.Decision);
        (await rig.StatusOfAsync("s2")).Should().Be("MAINT");

        policy.Throwing = false;
        await rig.WaitForStatusAsync("s2", s => s != "MAINT", "enabled once the policy works again");
    }

    [Fact]
    public async Task LogSource_Throws_RunAsyncFailsWithItAfterLoggingIt()
    {
        await using AutoscaleRig rig = await AutoscaleRig.StartAsync(AlwaysUpPolicy.Configure, build: (builder, _) =>
        {
            builder.Policies.Add("always-up", _ => new AlwaysUpPolicy());
            builder.UseLogSource(new ThrowingSource());
        });

        Func<Task> running = () => rig.Running.WaitAsync(TimeSpan.FromSeconds(10));
        (await running.Should().ThrowAsync<IOException>()).Which.Message.Should().Be("source bug");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.SourceFailed && l.Message == "The log source throwing@test failed: IOException: source bug");
        rig.Logs.Should().Contain(l => l.EventId == AutoscaleEventIds.Stopped, "the run ends cleanly, actions in flight awaited");
    }

    // Throws for the URLs it is told to, and succeeds at once for the others.
    private sealed class ThrowingWarmup(Func<Uri, bool> throwsFor) : IWarmup
    {
        public Task<WarmupResult> WarmUpAsync(Uri url, CancellationToken cancellationToken) =>
            throwsFor(url) ? throw new InvalidOperationException("warm-up bug") : Task.FromResult(new WarmupResult(true, "test", TimeSpan.Zero));
    }

    // A control with a bug: any write about one server throws something that is not a HaproxyControlException.
    private sealed class ThrowingControl(IHaproxyControl inner, string server) : IHaproxyControl
    {
        public string Endpoint => inner.Endpoint;

        public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default) =>
            command.Contains(server, StringComparison.Ordinal) && !command.StartsWith("show", StringComparison.Ordinal)
                ? throw new IOException("control bug")
                : inner.ExecuteAsync(command, cancellationToken);

        public Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default) =>
            inner.ExecuteBatchAsync(commands, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }

    private sealed class ThrowingSource : ILogSource
    {
        public string Address => "throwing@test";

        public LogSourceCounters Counters { get; } = new();

        public async Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new IOException("source bug");
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
