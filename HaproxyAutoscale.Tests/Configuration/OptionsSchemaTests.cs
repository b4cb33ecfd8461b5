using HaproxyAutoscale.Configuration;
using Microsoft.Extensions.Configuration;

namespace HaproxyAutoscale.Tests.Configuration;

/// <summary>The one definition of the options: reading, copying and the key reference come from <see cref="OptionsSchema"/>.</summary>
public sealed class OptionsSchemaTests
{
    // Every key, with a value other than its default.
    private const string EveryKey = """
        {
          "haproxy": { "endpoints": ["/run/haproxy/admin.sock"], "timeout": "3s" },
          "logs": { "source": "tcp@127.0.0.1:5141", "allowFrom": ["10.0.0.0/8"], "sampleRatio": 0.5, "minCoverage": 0.25, "fallback": "hold" },
          "warmup": { "timeout": "5s", "attempts": 4, "retryDelay": "2s", "failureBackoff": "1m", "minStatus": 201, "maxStatus": 299 },
          "evaluationInterval": "2s", "reconcileInterval": "20s", "counterInterval": "4s", "stateDirectory": "/var/lib/haproxy-autoscale",
          "ha": { "etcd": ["http://127.0.0.1:2379"], "electionName": "e", "leaseTtl": "5s", "replica": "r1" },
          "backends": {
            "app": {
              "window": { "kind": "time", "size": 20, "duration": "1m", "halfLife": "20s", "statistic": "p90", "timer": "Tw+Tc+Tr" },
              "policy": { "kind": "threshold", "thresholdMs": 800 },
              "scaleDown": { "mode": "immediate", "drainTimeout": "1m" },
              "selection": "least-sessions", "minActive": 1, "maxActive": 2, "settleTime": "3s",
              "servers": { "s1": { "alwaysUp": true }, "s2": { "warmupUrl": "http://127.0.0.1:1/", "weight": 10 } },
              "provider": { "kind": "exec", "keepWarm": "1m", "timeout": "30s", "start": ["start", "{server}"], "stop": ["stop", "{server}"], "workingDirectory": "/tmp" },
              "pool": { "prefix": "extra", "max": 3, "serverOptions": "check", "warmupPath": "/health" },
              "behavior": {
                "up": { "tolerance": 0.1, "cooldown": "5s", "stabilization": "10s", "maxStep": 2 },
                "down": { "tolerance": 0.2, "cooldown": "6s", "stabilization": "11s", "maxStep": 1, "minIdleBeforePark": "30s" }
              },
              "schedule": [{ "cron": "0 8 * * 1-5", "for": "2h", "minActive": 2, "timeZone": "UTC" }],
              "forecast": { "mode": "forecast-only", "lookback": "168h", "spread": "5m", "percentile": 95, "minLead": "2m" },
              "slo": { "p95": "250ms" }
            }
          }
        }
        """;

    [Fact]
    public void Reference_ListsEveryKeyOnce_AsTheCommittedKeyList()
    {
        List<KeyReference> keys = [.. OptionsSchema.Reference()];
        keys.Select(k => k.Path).Should().OnlyHaveUniqueItems();
        keys.Should().Contain(new KeyReference("logs.source", "string", "udp@127.0.0.1:5140"));
        keys.Should().Contain(new KeyReference("backends.NAME.provider.kind", "string", "none"));
        keys.Should().Contain(new KeyReference("backends.NAME.servers.NAME.weight", "integer", "none"));
        keys.Should().Contain(new KeyReference("backends.NAME.schedule[].for", "duration", "0ms"));

        // The committed list is the key reference the docs follow: regenerate it with HPA_UPDATE_KEYS=1 when a key changes.
        string text = Markdown(keys);
        string path = Repository.File("docs", "configuration-keys.md");
        if (Environment.GetEnvironmentVariable("HPA_UPDATE_KEYS") == "1")
        {
            File.WriteAllText(path, text);
        }

        File.ReadAllText(path).ReplaceLineEndings("\n").Should().Be(text, "docs/configuration-keys.md lists every key (HPA_UPDATE_KEYS=1 regenerates it)");
    }

    [Fact]
    public void Parse_EveryKey_ReadsEachIntoItsProperty()
    {
        ConfigurationResult result = AutoscaleConfiguration.Parse(EveryKey);

        result.Errors.Should().BeEmpty();
        AutoscaleOptions options = result.Options!;
        options.Haproxy.Timeout.Should().Be(TimeSpan.FromSeconds(3));
        options.Logs.Source.Should().Be("tcp@127.0.0.1:5141");
        options.Logs.AllowFrom.Should().Equal("10.0.0.0/8");
        options.Logs.Fallback.Should().Be(BlindFallback.Hold);
        options.HighAvailability!.Replica.Should().Be("r1");
        BackendOptions backend = options.Backends.Single();
        backend.Policy.Kind.Should().Be("threshold");
        backend.Policy.Settings.Should().Equal(new Dictionary<string, string> { ["thresholdMs"] = "800" });
        backend.Window.Timer.Should().Be(HaproxyAutoscale.Windows.ResponseTimer.TwTcTr);
        backend.Selection.Should().Be(ServerSelection.LeastSessions);
        backend.Provider!.Kind.Should().Be("exec");
        backend.Provider.Settings["workingDirectory"].Should().Be("/tmp");
        backend.Behavior.Down.MinIdleBeforePark.Should().Be(TimeSpan.FromSeconds(30));
        backend.Schedule.Single().For.Should().Be(TimeSpan.FromHours(2));
        (backend.Forecast.Mode, backend.Forecast.Lookback, backend.Forecast.MinLead).Should().Be((HaproxyAutoscale.Forecasting.ForecastMode.ForecastOnly, TimeSpan.FromDays(7), TimeSpan.FromMinutes(2)));

        // The example sets every key of the reference, so each of them is read above without an unknown key.
        JsonPaths(System.Text.Json.JsonDocument.Parse(EveryKey).RootElement, "").Should().BeEquivalentTo(
            OptionsSchema.Reference().Where(k => k.Type is not "object" and not "object of names" and not "array of objects" && !k.Path.EndsWith(".*", StringComparison.Ordinal)).Select(k => k.Path));
    }

    [Fact]
    public void Copy_EveryKey_EqualAndSharesNothing()
    {
        AutoscaleOptions options = AutoscaleConfiguration.Parse(EveryKey).Options!;

        AutoscaleOptions copy = OptionsCopy.Of(options);

        copy.Should().BeEquivalentTo(options);
        copy.Haproxy.Endpoints.Should().NotBeSameAs(options.Haproxy.Endpoints);
        copy.Logs.AllowFrom.Should().NotBeSameAs(options.Logs.AllowFrom);
        copy.Backends[0].Should().NotBeSameAs(options.Backends[0]);
        copy.Backends[0].Policy.Settings.Should().NotBeSameAs(options.Backends[0].Policy.Settings);
        copy.Backends[0].Provider!.Lists["start"].Should().NotBeSameAs(options.Backends[0].Provider!.Lists["start"]);
        copy.Backends[0].Schedule[0].Should().NotBeSameAs(options.Backends[0].Schedule[0]);
        copy.HighAvailability!.Etcd.Should().NotBeSameAs(options.HighAvailability!.Etcd);
    }

    [Fact]
    public void Read_ConfigurationSection_SameOptionsAsTheJson()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(EveryKey)))
            .Build();

        ConfigurationResult result = AutoscaleConfiguration.Read(configuration);

        result.Errors.Should().BeEmpty();
        result.Options.Should().BeEquivalentTo(AutoscaleConfiguration.Parse(EveryKey).Options);
    }

    [Fact]
    public void Parse_ProviderTypeInsteadOfKind_UnknownProvider()
    {
        AutoscaleConfiguration.Parse("""
            {"haproxy": {"endpoints": ["/run/haproxy/admin.sock"]}, "backends": {"app": {"servers": {"s1": {}},
              "provider": {"type": "exec", "start": ["a"], "stop": ["b"]}}}}
            """).Errors.Should().Equal(
            "backends.app.provider.kind: unknown provider '' (known: exec)");
    }

    private static string Markdown(IEnumerable<KeyReference> keys) =>
        "# Configuration keys\n\n" +
        "Generated from `OptionsSchema` by `OptionsSchemaTests` (`HPA_UPDATE_KEYS=1` regenerates it). `NAME` is a backend's or\n" +
        "server's name, `[]` an array item, `*` any other key (the policy's or provider's own settings).\n\n" +
        "| key | holds | default |\n| --- | --- | --- |\n" +
        string.Concat(keys.Select(k => $"| `{k.Path}` | {k.Type} | {(k.Default is null ? "" : $"`{k.Default}`")} |\n"));

    // The paths of the leaves of a JSON document as the key reference writes them (backends and servers as NAME,
    // array items of objects as []); the policy's and provider's own settings are left out.
    private static IEnumerable<string> JsonPaths(System.Text.Json.JsonElement element, string path)
    {
        bool named = path.EndsWith("backends", StringComparison.Ordinal) || path.EndsWith("servers", StringComparison.Ordinal);
        if (element.ValueKind == System.Text.Json.JsonValueKind.Object)
        {
            foreach (System.Text.Json.JsonProperty property in element.EnumerateObject())
            {
                string name = named ? "NAME" : property.Name;
                bool own = path.EndsWith(".policy", StringComparison.Ordinal) && property.Name != "kind"
                    || path.EndsWith(".provider", StringComparison.Ordinal) && property.Name is not ("kind" or "keepWarm" or "timeout");
                if (!own)
                {
                    foreach (string child in JsonPaths(property.Value, path.Length == 0 ? name : $"{path}.{name}"))
                    {
                        yield return child;
                    }
                }
            }
        }
        else if (element.ValueKind == System.Text.Json.JsonValueKind.Array && element.EnumerateArray().FirstOrDefault().ValueKind == System.Text.Json.JsonValueKind.Object)
        {
            foreach (string child in JsonPaths(element[0], path + "[]"))
            {
                yield return child;
            }
        }
        else
        {
            yield return path;
        }
    }
}
