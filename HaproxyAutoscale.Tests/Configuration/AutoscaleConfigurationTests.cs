using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Windows;

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
        options.Endpoints.Should().Equal("/run/haproxy/admin.sock", "ipv4@127.0.0.1:9999");
        options.CommandTimeout.Should().Be(TimeSpan.FromSeconds(2));
        options.LogSource.Should().Be("udp@127.0.0.1:5140");
        BackendOptions backend = options.Backends.Single();
        backend.Name.Should().Be("app1backend");
        backend.Window.Kind.Should().Be(WindowKinds.Count);
        backend.Window.Size.Should().Be(15);
        backend.PolicyKind.Should().Be("threshold");
        backend.PolicySettings["idleScaleDown"].Should().Be("5m");
        backend.PolicySettings["thresholdMs"].Should().Be("800");
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
              "logs": { "source": "tcp@127.0.0.1:5140" },
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
        result.Errors.Should().BeEquivalentTo(
            "haproxy.endpoints[0]: 'udp@1.2.3.4:5': unknown scheme 'udp@' (use unix@, ipv4@, ipv6@ or a socket path)",
            "haproxy.timeot: unknown key",
            "logs.source: 'tcp@127.0.0.1:5140': unknown log source scheme 'tcp@' (use udp@, unix@, a file path or -)",
            "backends.app;x: 'app;x' is not a valid HAProxy backend name (letters, digits, '_', ':', '.', '-')",
            "backends.app;x.window.size: expected an integer from 1 to 1000000",
            "backends.app;x.window.statistic: an ewma window reports only the mean",
            "backends.app;x.scaleDown.mode: 'gently' is not one of drain, immediate",
            "backends.app;x.servers.server2.warmupUrl: not an absolute http(s) URL",
            "backends.app;x.servers.server2.weight: expected an integer from 1 to 256",
            "backends.app;x.minActive: 3 is more than the 1 configured servers",
            "backends.app;x.policy.idleScaleDown: 'soon' is not a duration such as \"30s\", \"5m\" or \"00:05:00\"",
            "backends.empty.servers: at least one server is required");
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
    public void Durations_RejectOthers(string text) => Durations.TryParse(text, out _).Should().BeFalse();
}
