using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

[Trait("Category", "Haproxy")]
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task Run_WithMetrics_ServesPrometheusTextWithTheActionCounter()
    {
        using var dir = new TempDirectory();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync("""
            backend app
                server s1 127.0.0.1:1
                server s2 127.0.0.1:2
            """, dir);
        string config = dir.File("config.json");
        // s2 is up and nothing is logged: after 1 s of idleness it is drained, one action.
        await File.WriteAllTextAsync(config, $$"""
            { "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] }, "logs": { "source": "udp@127.0.0.1:0" },
              "evaluationInterval": "100ms",
              "backends": { "app": { "policy": { "kind": "threshold", "idleScaleDown": "1s" },
                                     "scaleDown": { "drainTimeout": "1s" },
                                     "servers": { "s1": { "alwaysUp": true }, "s2": {} } } } }
            """);
        int port = Ports.FreeTcp();
        using var stop = new CancellationTokenSource();
        var output = new StringWriter();
        Task<int> run = HaproxyAutoscale.Cli.Program.RunAsync(["run", "--config", config, "--metrics", $"127.0.0.1:{port}"], output, new StringWriter(), stop.Token);

        using var http = new HttpClient();
        string scraped = "";
        await Poll.UntilAsync(
            () =>
            {
                try
                {
                    scraped = http.GetStringAsync($"http://127.0.0.1:{port}/metrics").GetAwaiter().GetResult();
                }
                catch (HttpRequestException)
                {
                    return false;
                }

                // Other tests in this process run autoscalers too (their meters share the name): at least ours.
                return scraped.Split('\n').Any(l => l.StartsWith("haproxyautoscale_actions{", StringComparison.Ordinal) && l.Contains("action=\"down\"", StringComparison.Ordinal)
                    && double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture) >= 1);
            },
            TimeSpan.FromSeconds(15), "the action counter on the metrics endpoint");

        scraped.Should().Contain("backend=\"app\"");
        scraped.Should().Contain("haproxyautoscale_servers_active{backend=\"app\"}");
        scraped.Split('\n').Should().Contain(l => l.StartsWith("haproxyautoscale_servers_lifecycle{", StringComparison.Ordinal)
            && l.Contains("backend=\"app\"", StringComparison.Ordinal) && l.Contains("state=\"parked\"", StringComparison.Ordinal));
        await stop.CancelAsync();
        (await run).Should().Be(0);
    }

    [Fact]
    public async Task Run_MetricsOnEveryInterface_IsServed()
    {
        const string host = "0.0.0.0";
        // Prometheus scrapes from another host: any address may be bound (0.0.0.0 answers on loopback too).
        using var dir = new TempDirectory();
        await using var haproxy = await Haproxy.StartWithAdminSocketAsync("backend app\n    server s1 127.0.0.1:1\n", dir);
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, $$"""
            { "haproxy": { "endpoints": ["{{dir.File("admin.sock")}}"] }, "logs": { "source": "udp@127.0.0.1:0" },
              "backends": { "app": { "servers": { "s1": { "alwaysUp": true } } } } }
            """);
        int port = Ports.FreeTcp();
        using var stop = new CancellationTokenSource();
        var error = new StringWriter();
        Task<int> run = HaproxyAutoscale.Cli.Program.RunAsync(["run", "--config", config, "--metrics", $"{host}:{port}"], new StringWriter(), error, stop.Token);
        try
        {
            using var http = new HttpClient();
            string url = $"http://127.0.0.1:{port}/metrics";
            string scraped = "";
            await Poll.UntilAsync(
                () =>
                {
                    if (run.IsCompleted)
                    {
                        throw new InvalidOperationException($"run ended with {run.Result}: {error}");
                    }

                    try
                    {
                        scraped = http.GetStringAsync(url).GetAwaiter().GetResult();
                        return scraped.Contains("haproxyautoscale_servers_active{backend=\"app\"}", StringComparison.Ordinal);
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromSeconds(15), $"metrics on {url}");
        }
        finally
        {
            await stop.CancelAsync();
        }

        (await run).Should().Be(0);
    }

    [Theory]
    [InlineData("localhost:9464", "not HOST:PORT with a numeric address")]
    [InlineData("127.0.0.1", "not HOST:PORT with a numeric address")]
    [InlineData("::1:9464", "not HOST:PORT with a numeric address")]
    public async Task Run_MetricsOnANamedOrPortlessAddress_IsAUsageError(string address, string error)
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, """{ "haproxy": { "endpoints": ["/tmp/x.sock"] }, "backends": { "app": { "servers": { "s1": {} } } } }""");
        var (exitCode, _, stderr) = await CliRunner.RunAsync("run", "--config", config, "--metrics", address);
        exitCode.Should().Be(2);
        stderr.Should().Contain(error);
    }

    [Fact]
    public async Task Run_MetricsPortInUse_OneLineNamingTheOptionAndAddress()
    {
        using var dir = new TempDirectory();
        string config = dir.File("config.json");
        await File.WriteAllTextAsync(config, """{ "haproxy": { "endpoints": ["/tmp/x.sock"] }, "backends": { "app": { "servers": { "s1": {} } } } }""");
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        string address = taken.LocalEndpoint.ToString()!;

        var (exitCode, _, stderr) = await CliRunner.RunAsync("run", "--config", config, "--metrics", address);

        exitCode.Should().Be(2);
        stderr.Trim().Should().Contain($"--metrics: cannot listen on {address}: ").And.NotContain("\n").And.NotContain("unexpected");
    }
}
