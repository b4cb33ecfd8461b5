using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;
using HaproxyAutoscale.Policies;
using HaproxyAutoscale.Replay;
using HaproxyAutoscale.Scaling;

namespace HaproxyAutoscale.Tests.Hosting;

public sealed class AutoscalerOwnershipTests
{
    [Fact]
    public async Task DisposeAsync_SuppliedSourceAndControl_LeftToTheCaller()
    {
        var options = new AutoscaleOptions();
        options.Haproxy.Endpoints.Add("/run/haproxy/admin.sock");
        var backend = new BackendOptions { Name = "app" };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        options.Backends.Add(backend);
        var source = new TrackingSource();
        var control = new TrackingControl();

        Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(source).UseControl(control).Build();
        await autoscaler.DisposeAsync();

        source.Disposed.Should().BeFalse("the caller supplied the source");
        control.Disposed.Should().BeFalse("the caller supplied the control");
    }

    [Fact]
    public async Task Build_OptionsChangedAfterwards_TheEngineKeepsTheValidatedCopy()
    {
        var options = new AutoscaleOptions();
        options.Haproxy.Endpoints.Add("/run/haproxy/admin.sock");
        var backend = new BackendOptions { Name = "app" };
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        options.Backends.Add(backend);
        await using Autoscaler autoscaler = new AutoscalerBuilder(options).UseLogSource(new TrackingSource()).UseControl(new TrackingControl()).Build();

        backend.Servers.Add(new ServerOptions { Name = "s4" });
        options.EvaluationInterval = TimeSpan.Zero;

        autoscaler.Snapshot().Single().Servers.Select(s => (s.Name, s.Role)).Should().Equal([("s1", ServerRole.Active)], "a server added after Build() never reaches the engine");
    }

    [Fact]
    public void ReplayRunner_ZeroEvaluationInterval_RejectedInsteadOfLoopingForever()
    {
        var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.Zero };
        var backend = new BackendOptions { Name = "app" };
        backend.Servers.Add(new ServerOptions { Name = "s1" });
        options.Backends.Add(backend);

        Action create = () => _ = new ReplayRunner(options, new ScalingPolicyRegistry(), _ => { });
        create.Should().Throw<AutoscaleOptionsException>().Which.Errors.Should().Contain("evaluationInterval: must be more than 0");
    }

    private sealed class TrackingSource : ILogSource
    {
        public bool Disposed { get; private set; }

        public string Address => "tracking";

        public LogSourceCounters Counters { get; } = new();

        public Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }

    private sealed class TrackingControl : IHaproxyControl
    {
        public bool Disposed { get; private set; }

        public string Endpoint => "tracking";

        public Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
