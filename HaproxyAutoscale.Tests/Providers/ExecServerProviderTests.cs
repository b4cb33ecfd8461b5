using System.Diagnostics;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Providers;
using HaproxyAutoscale.Scaling;
using HaproxyAutoscale.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace HaproxyAutoscale.Tests.Providers;

/// <summary>The exec provider running real commands: real app processes on loopback ports, started, asked and stopped.</summary>
public sealed class ExecServerProviderTests : IDisposable
{
    private static readonly ServerProviderTarget Target = new("app", "s2");

    private readonly ScriptedApps _apps = new();
    private readonly ListLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;

    public ExecServerProviderTests() => _loggers = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));

    [Fact]
    public async Task StartStatusStop_RealApp_StartsServesAndStops()
    {
        IServerProvider provider = Create(_apps.Provider(TimeSpan.Zero));

        (await provider.GetStatusAsync(Target, CancellationToken.None)).Should().Be(ServerRunState.Stopped);
        ServerStartResult started = await provider.StartAsync(Target, CancellationToken.None);

        started.Address.Should().MatchRegex(@"^127\.0\.0\.1:\d+$");
        using (var http = new HttpClient())
        {
            (await http.GetStringAsync($"http://{started.Address}/hello")).Should().Be("ok s2");
        }

        (await provider.GetStatusAsync(Target, CancellationToken.None)).Should().Be(ServerRunState.Running);
        (await provider.StartAsync(Target, CancellationToken.None)).Address.Should().Be(started.Address, "starting a running server starts nothing new");
        _apps.Starts("s2").Should().Be(1);

        await provider.StopAsync(Target, CancellationToken.None);
        (await provider.GetStatusAsync(Target, CancellationToken.None)).Should().Be(ServerRunState.Stopped);
        _apps.Running().Should().BeEmpty();
        _logs.Entries.Should().Contain(e => e.EventId == AutoscaleEventIds.ProviderCommand && e.Message.Contains("app/s2: start: 'bash' exited with 0", StringComparison.Ordinal)
            && e.Message.Contains("starting s2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LabApp_OwnerGone_ExitsByItself()
    {
        // A test that times out is abandoned, not disposed: its apps must not outlive the run that started them.
        IServerProvider provider = Create(_apps.Provider(TimeSpan.Zero));
        await provider.StartAsync(Target, CancellationToken.None);
        _apps.Running().Should().ContainSingle();

        File.Delete(Path.Combine(_apps.Directory, "owner"));

        await Poll.UntilAsync(() => _apps.Running().Count == 0, TimeSpan.FromSeconds(10), "the app exits once its owner is gone");
    }

    [Fact]
    public async Task Start_CommandFails_ThrowsFailedWithItsError()
    {
        IServerProvider provider = Create(_apps.Provider(TimeSpan.Zero));
        _apps.SetMode("fail");

        Func<Task> start = () => provider.StartAsync(Target, CancellationToken.None);

        (await start.Should().ThrowAsync<ServerProviderException>())
            .Which.Should().Match<ServerProviderException>(e => e.Kind == ServerProviderErrorKind.Failed && e.Operation == "start"
                && e.Message == "app/s2: start: 'bash' exited with 1: cannot start s2: simulated failure");
    }

    [Fact]
    public async Task Start_CommandHangsPastTheDeadline_TimesOutAndKillsItsProcessTree()
    {
        IServerProvider provider = Create(_apps.Provider(TimeSpan.Zero));
        _apps.SetMode("hang");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(2));

        Func<Task> start = () => provider.StartAsync(Target, deadline.Token);

        (await start.Should().ThrowAsync<ServerProviderException>()).Which.Kind.Should().Be(ServerProviderErrorKind.Timeout);
        _apps.Starts("s2").Should().Be(1, "the script ran and launched the app before it hung");
        await Poll.UntilAsync(() => _apps.Running().Count == 0, TimeSpan.FromSeconds(10), "the app the hung start launched to be killed with it");
    }

    [Fact]
    public async Task Start_ArgumentsWithShellSyntax_ArePassedLiterallyWithNamesSubstituted()
    {
        string marker = Path.Combine(_apps.Directory, "pwned");
        var options = new ServerProviderOptions { Kind = "exec" };
        options.Lists["start"] = ["printf", "%s|%s\\n", "{backend}/{server}-x", $"$(touch {marker}); `touch {marker}` {{server}}"];
        options.Lists["stop"] = ["true"];
        IServerProvider provider = Create(options);

        ServerStartResult result = await provider.StartAsync(Target, CancellationToken.None);

        result.Address.Should().BeNull("the output is not ADDRESS:PORT");
        File.Exists(marker).Should().BeFalse("no shell ever sees the arguments");
        _logs.Entries.Should().Contain(e => e.Message.Contains($"output: app/s2-x|$(touch {marker}); `touch {marker}` s2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_InvalidServerName_RunsNothing()
    {
        var options = new ServerProviderOptions { Kind = "exec" };
        options.Lists["start"] = ["touch", Path.Combine(_apps.Directory, "{server}")];
        options.Lists["stop"] = ["true"];
        IServerProvider provider = Create(options);

        Func<Task> start = () => provider.StartAsync(new ServerProviderTarget("app", "s2;reboot"), CancellationToken.None);

        (await start.Should().ThrowAsync<ServerProviderException>()).Which.Kind.Should().Be(ServerProviderErrorKind.InvalidArgument);
        Directory.GetFiles(_apps.Directory, "s2*").Should().BeEmpty();
    }

    [Fact]
    public async Task Start_MissingProgram_ThrowsNotFound()
    {
        var options = new ServerProviderOptions { Kind = "exec" };
        options.Lists["start"] = ["/nonexistent/start-app"];
        options.Lists["stop"] = ["true"];

        Func<Task> start = () => Create(options).StartAsync(Target, CancellationToken.None);

        (await start.Should().ThrowAsync<ServerProviderException>()).Which.Kind.Should().Be(ServerProviderErrorKind.NotFound);
    }

    [Fact]
    public async Task Status_ExitCodes_MeanRunningStoppedOrUnknown()
    {
        foreach ((string code, ServerRunState expected) in new[] { ("0", ServerRunState.Running), ("3", ServerRunState.Stopped), ("1", ServerRunState.Unknown), ("4", ServerRunState.Unknown) })
        {
            var options = new ServerProviderOptions { Kind = "exec" };
            options.Lists["start"] = ["true"];
            options.Lists["stop"] = ["true"];
            options.Lists["status"] = ["bash", "-c", $"exit {code}"];
            (await Create(options).GetStatusAsync(Target, CancellationToken.None)).Should().Be(expected, $"exit {code}");
        }

        // An answer that means something and prints nothing is a debug line (a fleet's start asks about every parked
        // server); any other exit, or any output, stays information.
        _logs.Entries.Where(e => e.EventId == AutoscaleEventIds.ProviderCommand).Select(e => (e.Level, e.Message[..e.Message.IndexOf(" after ", StringComparison.Ordinal)])).Should().Equal(
            (LogLevel.Debug, "app/s2: status: 'bash' exited with 0"), (LogLevel.Debug, "app/s2: status: 'bash' exited with 3"),
            (LogLevel.Information, "app/s2: status: 'bash' exited with 1"), (LogLevel.Information, "app/s2: status: 'bash' exited with 4"));
    }

    [Fact]
    public async Task StartStop_SilentSuccessIsDebug_OutputOrFailureIsInformation()
    {
        var options = new ServerProviderOptions { Kind = "exec" };
        options.Lists["start"] = ["bash", "-c", "echo started"];
        options.Lists["stop"] = ["true"];
        IServerProvider provider = Create(options);
        await provider.StartAsync(Target, CancellationToken.None);
        await provider.StopAsync(Target, CancellationToken.None);

        _logs.Entries.Where(e => e.EventId == AutoscaleEventIds.ProviderCommand).Select(e => (e.Level, e.Message[..e.Message.IndexOf(" after ", StringComparison.Ordinal)])).Should().Equal(
            (LogLevel.Information, "app/s2: start: 'bash' exited with 0"), (LogLevel.Debug, "app/s2: stop: 'true' exited with 0"));
    }

    [Fact]
    public async Task Start_ChildKeepsTheOutputOpen_ReturnsWhenTheCommandExits()
    {
        // A start that leaves a daemon holding its standard output must not keep the autoscaler waiting for it.
        var options = new ServerProviderOptions { Kind = "exec" };
        options.Lists["start"] = ["bash", "-c", $"sleep 30 & echo $! > {_apps.Directory}/sleeper.pid; echo 127.0.0.1:8080"];
        options.Lists["stop"] = ["true"];
        var watch = Stopwatch.StartNew();
        try
        {
            (await Create(options).StartAsync(Target, CancellationToken.None)).Address.Should().Be("127.0.0.1:8080");
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20));
        }
        finally
        {
            using var sleeper = Process.GetProcessById(int.Parse(File.ReadAllText(Path.Combine(_apps.Directory, "sleeper.pid")).Trim()));
            sleeper.Kill();
            await sleeper.WaitForExitAsync();
        }
    }

    [Fact]
    public void Parse_ProviderAndPool_ReadWithPathsOnProblems()
    {
        ConfigurationResult good = AutoscaleConfiguration.Parse("""
            {"haproxy": {"endpoints": ["/run/haproxy/admin.sock"]}, "backends": {"app": {
              "servers": {"s1": {"alwaysUp": true}, "s2": {}},
              "provider": {"kind": "exec", "keepWarm": "2m", "timeout": "45s", "start": ["systemctl", "start", "app@{server}"], "stop": ["systemctl", "stop", "app@{server}"], "status": ["systemctl", "is-active", "--quiet", "app@{server}"]},
              "pool": {"prefix": "auto", "max": 4, "serverOptions": "check inter 2s", "warmupPath": "/health"}}}}
            """);
        good.Errors.Should().BeEmpty();
        BackendOptions backend = good.Options!.Backends.Single();
        backend.Provider!.KeepWarm.Should().Be(TimeSpan.FromMinutes(2));
        backend.Provider.Timeout.Should().Be(TimeSpan.FromSeconds(45));
        backend.Provider.Lists["start"].Should().Equal("systemctl", "start", "app@{server}");
        backend.Pool!.Max.Should().Be(4);
        backend.Pool.ServerOptions.Should().Be("check inter 2s");
        backend.Pool.WarmupPath.Should().Be("/health");

        ConfigurationResult bad = AutoscaleConfiguration.Parse("""
            {"haproxy": {"endpoints": ["/run/haproxy/admin.sock"]}, "backends": {"app": {
              "servers": {"s1": {"alwaysUp": true}, "auto2": {}},
              "provider": {"kind": "exec", "keepWarm": "soon", "start": "systemctl start app", "stopp": ["x"]},
              "pool": {"prefix": "auto", "max": 0, "serverOptions": "check; shutdown sessions"}}}}
            """);
        bad.Errors.Should().BeEquivalentTo(
            "backends.app.provider.keepWarm: expected a duration such as \"30s\", \"5m\", \"250ms\" or \"00:05:00\"",
            "backends.app.provider.start: expected an array of strings",
            "backends.app.provider.stop: required by the 'exec' provider",
            "backends.app.provider.stopp: unknown setting for the 'exec' provider",
            "backends.app.pool.max: expected an integer from 1 to 1000",
            "backends.app.pool.serverOptions: server keywords on one line, without ';', '#' or '<<'");

        AutoscaleConfiguration.Parse("""
            {"haproxy": {"endpoints": ["/run/haproxy/admin.sock"]}, "backends": {"app": {
              "servers": {"s1": {"alwaysUp": true}, "auto2": {}}, "provider": {"kind": "exec", "start": ["a"], "stop": ["b"]}, "pool": {"max": 3}}}}
            """).Errors.Should().Equal("backends.app.pool.prefix: the configured server 'auto2' has a pool slot's name");
        AutoscaleConfiguration.Parse("""
            {"haproxy": {"endpoints": ["/run/haproxy/admin.sock"]}, "backends": {"app": {"servers": {"s1": {}}, "pool": {"max": 3}}}}
            """).Errors.Should().Equal("backends.app.pool: a pool needs a provider to start its servers (backends.<name>.provider)");

        // Options built in code meet the same rules.
        AutoscaleOptions inCode = good.Options!;
        inCode.Backends[0].Provider!.KeepWarm = TimeSpan.FromSeconds(-1);
        inCode.Backends[0].Provider!.Kind = "nomad";
        AutoscaleOptionsValidator.Validate(inCode).Should().Equal(
            "backends.app.provider.keepWarm: must not be negative", "backends.app.provider.kind: unknown provider 'nomad' (known: exec)");
        var nomad = new ServerProviderRegistry().Add("nomad", settings => new ReadsEverySetting(settings));
        AutoscaleOptionsValidator.Validate(inCode, new AutoscaleRegistries { Providers = nomad })
            .Should().Equal(["backends.app.provider.keepWarm: must not be negative"], "the embedder's providers are known to the public Validate");
        FluentActions.Invoking(() => new HaproxyAutoscale.Hosting.AutoscalerBuilder(inCode).Build()).Should().Throw<AutoscaleOptionsException>()
            .Which.Message.Should().Contain("backends.app.provider.kind: unknown provider 'nomad' (known: exec)");
    }

    public void Dispose()
    {
        _loggers.Dispose();
        _apps.Dispose();
    }

    private IServerProvider Create(ServerProviderOptions options)
    {
        var errors = new List<string>();
        IServerProvider? provider = new ServerProviderRegistry().TryCreate(new ServerProviderSettings("app", options, "provider", _loggers), errors);
        errors.Should().BeEmpty();
        return provider!;
    }

    // A custom provider for validation only: it reads the exec-shaped settings and is never started.
    private sealed class ReadsEverySetting : IServerProvider
    {
        public ReadsEverySetting(ServerProviderSettings settings)
        {
            _ = (settings.GetList("start"), settings.GetList("stop"), settings.GetList("status"));
        }

        public Task<ServerStartResult> StartAsync(ServerProviderTarget target, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task StopAsync(ServerProviderTarget target, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ServerRunState> GetStatusAsync(ServerProviderTarget target, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
