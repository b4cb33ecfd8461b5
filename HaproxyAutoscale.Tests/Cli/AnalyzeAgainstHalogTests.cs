using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Cli;

/// <summary>
/// <c>analyze --json</c> must agree with HAProxy's own analyzer: for every server <c>halog -srv</c> lists, its
/// <c>tot_req</c> equals our <c>requests</c> and its <c>avg_rt</c> the integer part of our <c>tr.mean</c>.
/// </summary>
public sealed class AnalyzeAgainstHalogTests
{
    [Fact]
    public async Task Analyze_LogWrittenByRealHaproxy_AgreesWithHalogSrv()
    {
        using var dir = new TempDirectory();
        await using var fast = AppServers.Plain();
        await using var slow = AppServers.Plain(delay: TimeSpan.FromMilliseconds(15));
        await using var missing = AppServers.Plain(status: 404);
        await using var broken = AppServers.Plain(status: 500, delay: TimeSpan.FromMilliseconds(3));
        await using var logs = LogCollector.Udp();
        int port = Ports.FreeTcp();
        await using var haproxy = await Haproxy.StartAsync($$"""
            global
                log 127.0.0.1:{{logs.Port}} format rfc3164 local0
            defaults
                mode http
                log global
                option httplog
                retries 0
                timeout connect 1s
                timeout client 5s
                timeout server 5s
            frontend fe_http
                bind 127.0.0.1:{{port}}
                use_backend be_nosrv if { path_beg /nosrv }
                default_backend be_app
            backend be_app
                balance roundrobin
                server fast 127.0.0.1:{{fast.Port}}
                server slow 127.0.0.1:{{slow.Port}}
                server missing 127.0.0.1:{{missing.Port}}
                server broken 127.0.0.1:{{broken.Port}}
            backend be_nosrv
                server off 127.0.0.1:{{fast.Port}} disabled
            """, dir);
        await haproxy.WaitForPortAsync(port);

        const int Requests = 240;
        using var http = new HttpClient();
        for (int i = 0; i < Requests; i++)
        {
            using HttpResponseMessage response = await http.GetAsync($"http://127.0.0.1:{port}/{(i % 12 == 0 ? "nosrv" : "item")}/{i}");
        }

        await logs.WaitForAsync(lines => lines.Count(l => l.Contains("fe_http be_", StringComparison.Ordinal)) >= Requests, $"{Requests} request lines");

        // Write the log as rsyslog would: without <PRI>, starting with the timestamp and the host name.
        string logFile = dir.File("haproxy.log");
        await File.WriteAllLinesAsync(logFile, logs.Lines.Select(l => l[(l.IndexOf('>', StringComparison.Ordinal) + 1)..]));

        Dictionary<string, (long TotalRequests, long AverageResponseTime)> halog = await RunHalogSrvAsync(logFile);
        halog.Keys.Should().Contain(["be_app/fast", "be_app/slow", "be_app/missing", "be_app/broken", "be_nosrv/<NOSRV>"]);
        // HAProxy's timers have millisecond resolution and are rounded: 15 ms of delay may average 14.
        halog["be_app/slow"].AverageResponseTime.Should().BeGreaterThan(halog["be_app/fast"].AverageResponseTime + 8, "the slow backend answers 15 ms later");

        var (exitCode, output, error) = await CliRunner.RunAsync("analyze", logFile, "--json");
        exitCode.Should().Be(0, error);
        using JsonDocument report = JsonDocument.Parse(output);
        var ours = report.RootElement.GetProperty("servers").EnumerateArray().ToDictionary(
            s => s.GetProperty("backend").GetString() + "/" + s.GetProperty("server").GetString());
        foreach ((string server, (long totalRequests, long averageResponseTime)) in halog)
        {
            ours.Should().ContainKey(server);
            ours[server].GetProperty("requests").GetInt64().Should().Be(totalRequests, $"tot_req of {server}");
            JsonElement tr = ours[server].GetProperty("tr");
            long integerMean = tr.GetProperty("count").GetInt64() == 0 ? 0 : (long)Math.Floor(tr.GetProperty("mean").GetDouble());
            integerMean.Should().Be(averageResponseTime, $"avg_rt of {server}");
        }

        // Every line of this log is an HTTP request line (the readiness probe's <BADREQ> included), so halog saw them all.
        report.RootElement.GetProperty("parsed").GetInt64().Should().Be(halog.Values.Sum(v => v.TotalRequests));
        halog.Should().ContainKey("fe_http/<NOSRV>", "the readiness probe's empty connection is logged as <BADREQ>");
    }

    private static async Task<Dictionary<string, (long, long)>> RunHalogSrvAsync(string logFile)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("HPA_HALOG") is { Length: > 0 } chosen ? chosen : "halog") { ArgumentList = { "-srv" }, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using Process halog = Process.Start(start) ?? throw new InvalidOperationException("halog did not start");
        await halog.StandardInput.WriteAsync(await File.ReadAllTextAsync(logFile));
        halog.StandardInput.Close();
        string output = await halog.StandardOutput.ReadToEndAsync();
        await halog.WaitForExitAsync();
        halog.ExitCode.Should().Be(0);

        // #srv_name 1xx 2xx 3xx 4xx 5xx other tot_req req_ok pct_ok avg_ct avg_rt
        var result = new Dictionary<string, (long, long)>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
        {
            string[] f = line.Split(' ');
            result[f[0]] = (long.Parse(f[7], CultureInfo.InvariantCulture), long.Parse(f[11], CultureInfo.InvariantCulture));
        }

        return result;
    }
}
