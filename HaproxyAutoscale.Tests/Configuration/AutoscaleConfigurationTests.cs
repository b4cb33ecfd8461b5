using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Windows;
using Microsoft.Extensions.Configuration;

namespace HaproxyAutoscale.Tests.Configuration;

public sealed class AutoscaleConfigurationTests
{
    internal const string DesignExample = """
        {
          "haproxy": { "endpoints": ["/run/haproxy/admin.sock", "ipv4@127.0.0.1:9999"], "timeout": "2s" },
          "logs": { "source": "udp@127.0.0.1:5140" },
          "backends": {
            "app1backend": {
              "window": { "kind": "count", "size": 15, "statistic": "mean" },
              "policy": { "kind": "threshold", "thresholdMs": 800, "breaches": 3, "idleScaleDown": "5m" },
              "scaleDown": { "mode": "drain", "drainTimeout": "30s" },
              "selection": "ordered",
              "servers": {
                "server1": { "alwaysUp": true },
                "server2": { "warmupUrl": "http://10.0.0.2:1234/" },
                "server3": { "warmupUrl": "http://10.0.0.3:1234/", "weight": 10 }
              }
            }
          }
        }
        """;

    [Fact]
    public void Parse_DesignExample_ReadsEverything()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse(DesignExample);
        result.Errors.Should().BeEmpty();
        AutoscaleOptions options = result.Options!;
        options.Haproxy.Endpoints.Should().Equal("/run/haproxy/admin.sock", "ipv4@127.0.0.1:9999");
        options.Haproxy.Timeout.Should().Be(TimeSpan.FromSeconds(2));
        options.Logs.Source.Should().Be("udp@127.0.0.1:5140");
        BackendOptions backend = options.Backends.Single();
        backend.Name.Should().Be("app1backend");
        backend.Window.Kind.Should().Be(WindowKinds.Count);
        backend.Window.Size.Should().Be(15);
        backend.Policy.Kind.Should().Be("threshold");
        backend.Policy.Settings["idleScaleDown"].Should().Be("5m");
        backend.Policy.Settings["thresholdMs"].Should().Be("800");
        backend.ScaleDown.Mode.Should().Be(ScaleDownMode.Drain);
        backend.ScaleDown.DrainTimeout.Should().Be(TimeSpan.FromSeconds(30));
        backend.Servers.Select(s => s.Name).Should().Equal("server1", "server2", "server3");
        backend.Servers[0].AlwaysUp.Should().BeTrue();
        backend.Servers[1].WarmupUrl.Should().Be(new Uri("http://10.0.0.2:1234/"));
        backend.EffectiveMinActive.Should().Be(1);
        backend.EffectiveMaxActive.Should().Be(3);
    }

    [Fact]
    public void Parse_KeysAreCaseInsensitive_AndDurationsInBothForms()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse("""
            { "BACKENDS": { "b": { "Window": { "KIND": "time", "Duration": "00:00:45", "Timer": "Tw+Tc+Tr" },
              "Policy": { "Kind": "Band", "upperMs": 500, "lowerMs": 100, "stabilization": "250ms" },
              "Servers": { "s": { "AlwaysUp": true } } } } }
            """);
        result.Errors.Should().BeEmpty();
        WindowOptions window = result.Options!.Backends[0].Window;
        (window.Kind, window.Duration, window.Timer).Should().Be((WindowKinds.Time, TimeSpan.FromSeconds(45), ResponseTimer.TwTcTr));
    }

    [Fact]
    public void Parse_ManyProblems_AllReportedWithTheirPaths()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse("""
            {
              "haproxy": { "endpoints": ["udp@1.2.3.4:5"], "timeot": "2s" },
              "logs": { "source": "tls@127.0.0.1:5140" },
              "backends": {
                "app;x": {
                  "window": { "kind": "ewma", "statistic": "p95", "size": 0 },
                  "policy": { "kind": "threshold", "idleScaleDown": "soon" },
                  "scaleDown": { "mode": "gently" },
                  "servers": { "server2": { "warmupUrl": "10.0.0.2:1234", "weight": 999 } },
                  "minActive": 3
                },
                "empty": { "servers": {} }
              }
            }
            """);
        result.IsValid.Should().BeFalse();
        result.Options.Should().BeNull();

        // What could not be read first (in document order), then the rules broken.
        result.Errors.Should().Equal(
            "haproxy.timeot: unknown key",
            "backends.app;x.scaleDown.mode: 'gently' is not one of drain, immediate",
            "haproxy.endpoints[0]: 'udp@1.2.3.4:5': unknown scheme 'udp@' (use unix@, ipv4@, ipv6@ or a socket path)",
            "logs.source: 'tls@127.0.0.1:5140': unknown log source scheme 'tls@' (use udp@, tcp@, unix@, a file path or -)",
            "backends.app;x: 'app;x' is not a valid HAProxy backend name (letters, digits, '_', ':', '.', '-')",
            "backends.app;x.window.size: expected an integer from 1 to 1000000",
            "backends.app;x.window.statistic: an ewma window reports only the mean",
            "backends.app;x.policy.idleScaleDown: 'soon' is not a duration such as \"30s\", \"5m\" or \"00:05:00\"",
            "backends.app;x.servers.server2.warmupUrl: not an absolute http(s) URL",
            "backends.app;x.servers.server2.weight: expected an integer from 1 to 256",
            "backends.app;x.minActive: 3 is more than the 1 configured servers",
            "backends.empty.servers: at least one server is required");
    }

    [Fact]
    public void Parse_ShapeErrors_AreNotJudgedAgainByTheRules()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse("""
            { "evaluationInterval": 5,
              "backends": { "a": "not an object", "b": { "servers": [], "window": { "size": "big" } } } }
            """);
        result.Errors.Should().Equal(
            "evaluationInterval: expected a duration such as \"30s\", \"5m\", \"250ms\" or \"00:05:00\"",
            "backends.a: expected an object",
            "backends.b.servers: expected an object",
            "backends.b.window.size: expected an integer");
    }

    [Fact]
    public void Parse_Configuration_ServersNamedLikeArrayIndexes_AreServers()
    {
        // Regression: the IConfiguration path guessed arrays from keys 0..n-1 and rejected servers named "0" and "1".
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["haproxy:endpoints:0"] = "/run/haproxy/admin.sock",
            ["haproxy:endpoints:1"] = "ipv4@127.0.0.1:9999",
            ["backends:0:servers:0:alwaysUp"] = "true",
            ["backends:0:servers:1:weight"] = "7",
        }).Build();

        ConfigurationResult result = AutoscaleConfiguration.Read(configuration);

        result.Errors.Should().BeEmpty();
        result.Options!.Haproxy.Endpoints.Should().Equal("/run/haproxy/admin.sock", "ipv4@127.0.0.1:9999");
        BackendOptions backend = result.Options.Backends.Single();
        backend.Name.Should().Be("0");
        backend.Servers.Select(s => (s.Name, s.AlwaysUp, s.Weight)).Should().Equal(("0", true, (int?)null), ("1", false, 7));
    }

    [Fact]
    public void Parse_Configuration_ShapeErrorsWithPaths_AsTheJsonFile()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["haproxy:endpoints:first"] = "/run/haproxy/admin.sock",
            ["Backends:app:Servers:s1:Wieght"] = "7",
            ["backends:app:servers:s1:alwaysUp"] = "maybe",
            ["backends:app:window"] = "count",
        }).Build();

        AutoscaleConfiguration.Read(configuration).Errors.Should().Equal(
            "backends.app.servers.s1.alwaysUp: expected true or false",
            "backends.app.servers.s1.Wieght: unknown key",
            "backends.app.window: expected an object",
            "haproxy.endpoints: expected an array");
    }

    [Fact]
    public void Parse_Configuration_FromAppsettingsJson_ReadsTheDesignExample()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(DesignExample)))
            .Build();

        ConfigurationResult fromConfiguration = AutoscaleConfiguration.Read(configuration);

        fromConfiguration.Errors.Should().BeEmpty();
        fromConfiguration.Options.Should().BeEquivalentTo(AutoscaleConfiguration.Parse(DesignExample).Options);
    }

    /// <summary>The same invalid configuration as a JSON file, as <see cref="IConfiguration"/> and built in code.</summary>
    private const string InvalidEverywhere = """
        {
          "haproxy": { "endpoints": ["udp@1.2.3.4:5"] },
          "evaluationInterval": "0s",
          "warmup": { "minStatus": 500, "maxStatus": 200 },
          "backends": {
            "app": {
              "window": { "kind": "ewma", "statistic": "p95" },
              "policy": { "kind": "band", "upperMs": 100, "lowerMs": 300 },
              "minActive": 3,
              "servers": { "0": { "weight": 0 }, "1": { "warmupUrl": "ftp://10.0.0.1/" } }
            }
          }
        }
        """;

    private static readonly string[] InvalidEverywhereErrors =
    [
        "haproxy.endpoints[0]: 'udp@1.2.3.4:5': unknown scheme 'udp@' (use unix@, ipv4@, ipv6@ or a socket path)",
        "evaluationInterval: must be more than 0",
        "warmup.maxStatus: 200 is below minStatus (500)",
        "backends.app.window.statistic: an ewma window reports only the mean",
        "backends.app.policy.lowerMs: must be below upperMs (100)",
        "backends.app.servers.0.weight: expected an integer from 1 to 256",
        "backends.app.servers.1.warmupUrl: not an absolute http(s) URL",
        "backends.app.minActive: 3 is more than the 2 configured servers",
    ];

    [Fact]
    public void Validate_SameProblemsFromJsonConfigurationAndCode_SameErrors()
    {
        var options = new AutoscaleOptions { EvaluationInterval = TimeSpan.Zero };
        options.Haproxy.Endpoints.Add("udp@1.2.3.4:5");
        options.Warmup.MinStatus = 500;
        options.Warmup.MaxStatus = 200;
        var backend = new BackendOptions
        {
            Name = "app",
            Window = new WindowOptions { Kind = WindowKinds.Ewma, Statistic = WindowStatistic.P95 },
            Policy = { Kind = "band" },
            MinActive = 3,
        };
        backend.Policy.Settings["upperMs"] = "100";
        backend.Policy.Settings["lowerMs"] = "300";
        backend.Servers.Add(new ServerOptions { Name = "0", Weight = 0 });
        backend.Servers.Add(new ServerOptions { Name = "1", WarmupUrl = new Uri("ftp://10.0.0.1/") });
        options.Backends.Add(backend);
        IConfiguration configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(InvalidEverywhere)))
            .Build();

        AutoscaleConfiguration.Parse(InvalidEverywhere).Errors.Should().Equal(InvalidEverywhereErrors);
        AutoscaleConfiguration.Read(configuration).Errors.Should().Equal(InvalidEverywhereErrors);
        AutoscaleOptionsValidator.Validate(options).Should().Equal(InvalidEverywhereErrors);
    }

    [Fact]
    public void Validate_OptionsBuiltInCode_EveryRuleApplies()
    {
        AutoscaleOptionsValidator.Validate(new AutoscaleOptions()).Should().Equal("backends: at least one backend is required");

        var options = new AutoscaleOptions
        {
            Haproxy = { Timeout = TimeSpan.Zero },
            Logs = { Source = "" },
            ReconcileInterval = TimeSpan.FromSeconds(-1),
        };
        options.Warmup.Attempts = 0;
        options.Warmup.RetryDelay = TimeSpan.FromSeconds(-1);
        var backend = new BackendOptions
        {
            Name = "app",
            Window = new WindowOptions { Kind = "sliding", Duration = TimeSpan.Zero },
            Policy = { Kind = "threshold" },
            ScaleDown = new ScaleDownOptions { Mode = (ScaleDownMode)7, DrainTimeout = TimeSpan.Zero },
            MaxActive = 0,
            SettleTime = TimeSpan.FromSeconds(-1),
        };
        backend.Policy.Settings["thresholdMs"] = "0";
        backend.Servers.Add(new ServerOptions { Name = "s1", AlwaysUp = true });
        backend.Servers.Add(new ServerOptions { Name = "s1" });
        backend.Servers.Add(new ServerOptions { Name = "s 2" });
        options.Backends.Add(backend);
        options.Backends.Add(new BackendOptions { Name = "app" });

        AutoscaleOptionsValidator.Validate(options).Should().Equal(
            "haproxy.timeout: must be more than 0",
            "logs.source: empty log source address",
            "reconcileInterval: must be more than 0",
            "warmup.attempts: expected an integer from 1 to 100",
            "warmup.retryDelay: must not be negative",
            "backends.app.window.kind: unknown window kind 'sliding' (use count, ewma, time)",
            "backends.app.window.duration: must be more than 0",
            "backends.app.policy.thresholdMs: must be a number of milliseconds more than 0",
            "backends.app.scaleDown.mode: '7' is not one of drain, immediate",
            "backends.app.scaleDown.drainTimeout: must be more than 0",
            "backends.app.maxActive: expected an integer from 1 to 10000",
            "backends.app.settleTime: must not be negative",
            "backends.app.servers.s1: the server 's1' is configured twice",
            "backends.app.servers.s 2: 's 2' is not a valid HAProxy server name (letters, digits, '_', ':', '.', '-')",
            "backends.app.maxActive: 0 is below the minimum of 1 (minActive and alwaysUp servers)",
            "backends.app: the backend 'app' is configured twice",
            "backends.app.servers: at least one server is required");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("{}")]
    public void Parse_NotAConfiguration_OneClearError(string json) =>
        AutoscaleConfiguration.Parse(json).Errors.Should().ContainSingle();

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("30s", 30_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("00:05:00", 300_000)]
    public void Durations_ParseBothForms(string text, int milliseconds)
    {
        Durations.TryParse(text, out TimeSpan value).Should().BeTrue();
        value.Should().Be(TimeSpan.FromMilliseconds(milliseconds));
    }

    [Theory]
    [InlineData("5")]
    [InlineData("-5s")]
    [InlineData("5 minutes")]
    [InlineData("")]
    [InlineData("99999999999999999h")] // beyond TimeSpan: not a duration, rather than an OverflowException
    public void Durations_RejectOthers(string text) => Durations.TryParse(text, out _).Should().BeFalse();
}
