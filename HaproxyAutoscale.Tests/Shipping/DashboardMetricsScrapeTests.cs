using System.Text.Json.Nodes;
using HaproxyAutoscale.Tests.EndToEnd;
using HaproxyAutoscale.Tests.HighAvailability;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Shipping;

/// <summary>
/// Every metric the shipped dashboard and alert rules read exists on a running daemon's <c>/metrics</c>: the names
/// are taken from the files' expressions, the daemon is the CLI (its own process, so no other test's meter mixes
/// in) with active/standby on a one-member etcd, a provider and load enough to scale up (so the histograms have
/// observations), against a real HAProxy.
/// </summary>
[Trait("Category", "Haproxy")]
public sealed class DashboardMetricsScrapeTests
{
    // About 12 s: a failed and a real scale-up (provider start, warm-up, enable) at short intervals are what fill the
    // histograms and the failure and hold counters.
    [Fact]
    public async Task Run_ScalingUpWithAProviderAndHa_ServesEveryMetricTheDashboardAndRulesUse()
    {
        string[] used = [.. MonitoringFiles.MetricNames([.. MonitoringFiles.DashboardExpressions(), .. MonitoringFiles.DashboardVariableQueries(), .. MonitoringFiles.RuleExpressions()]).Order(StringComparer.Ordinal)];
        used.Should().Contain(["haproxyautoscale_scale_up_lag_seconds_bucket", "haproxyautoscale_start_to_ready_seconds_bucket", "haproxyautoscale_leader",
            "haproxyautoscale_provider_failures", "haproxyautoscale_log_lines"], "the files were parsed");

        Task<EtcdCluster> starting = EtcdCluster.StartAsync(size: 1); // beside the rig: each takes seconds
        await using ProviderRig rig = await ProviderRig.StartAsync(keepWarm: TimeSpan.FromMinutes(1));
        await using EtcdCluster etcd = await starting;
        // s2's first start fails (a provider failure): in its 3 s back-off the policy's scale-ups are held (no server
        // can move); the next start works and s2 is enabled (both histograms observe it). 1 s was too short on a
        // loaded machine: the SIGHUP below is applied in it, and no scale-up was asked before it ended.
        rig.Apps.SetMode("fail");
        string path = rig.WriteConfig();
        JsonNode config = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        config["warmup"]!["failureBackoff"] = "3s";
        config["ha"] = new JsonObject { ["etcd"] = new JsonArray(etcd.ClientUrls[0]), ["leaseTtl"] = "2s" };
        await File.WriteAllTextAsync(path, config.ToJsonString());
        int port = Ports.FreeTcp();

        await using CliProcess cli = CliProcess.Start("run", "--config", path, "--metrics", $"127.0.0.1:{port}");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var stopLoad = new CancellationTokenSource();
        Task load = rig.LoadAsync("/slow", 4, TimeSpan.FromSeconds(60), stopLoad.Token);
        // A histogram has no series before its first observation, and this daemon has no backend at zero to wake:
        // wake_to_ready_seconds is exported like scale_up_lag_seconds (same advice, same path) and its instrument is
        // pinned by WakeTests. A learned model needs minutes of requests at several concurrencies and a forecast days
        // of history: their gauges are pinned by LearnedAndForecastMetricsTests. Every other name the files use must be served.
        string[] notInAShortRun = ["haproxyautoscale_wake_to_ready_seconds_bucket", "haproxyautoscale_capacity_per_server", "haproxyautoscale_capacity_confident",
            "haproxyautoscale_capacity_service_ms", "haproxyautoscale_capacity_workers", "haproxyautoscale_forecast_servers"];
        used.Should().Contain(notInAShortRun);
        used = [.. used.Except(notInAShortRun)];
        string[] missing = used;
        string scraped = "";
        try
        {
            await cli.WaitForAsync("app/s2: up failed", "the first start of s2 to fail");
            rig.Apps.SetMode(null);
            // A reload of the unchanged file (systemctl reload): the reloads counter has a series from then on.
            (await ChildProcess.RunAsync("kill", ["-HUP", cli.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])).ExitCode.Should().Be(0);
            await Poll.UntilAsync(
                async () =>
                {
                    if (cli.HasExited)
                    {
                        throw new InvalidOperationException($"the daemon exited: {cli.Output}");
                    }

                    try
                    {
                        scraped = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        return false;
                    }

                    HashSet<string> served = [.. scraped.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => l[..l.IndexOfAny(['{', ' '])])];
                    missing = [.. used.Where(name => !served.Contains(name))];
                    return missing.Length == 0;
                },
                TimeSpan.FromSeconds(45), "every metric the dashboard and the rules use on /metrics");
        }
        catch (TimeoutException)
        {
            missing.Should().BeEmpty($"the dashboard and the rules use them; scraped:\n{scraped}\ndaemon:\n{cli.Output}");
        }
        finally
        {
            await stopLoad.CancelAsync();
            await load;
        }

        scraped.Should().Contain("haproxyautoscale_provider_failures{backend=\"app\",operation=\"start\"} 1");
        scraped.Should().Contain("haproxyautoscale_holds{backend=\"app\",gate=\"selection\"}");
        scraped.Should().Contain("haproxyautoscale_scale_up_lag_seconds_bucket{backend=\"app\",le=\"0.05\"}", "the lag buckets are the advised ones");
        scraped.Should().Contain("haproxyautoscale_leader 1");
        scraped.Should().Contain("haproxyautoscale_reloads{outcome=\"applied\"} 1");
        scraped.Should().Contain("haproxyautoscale_servers_max{backend=\"app\"} 2").And.Contain("haproxyautoscale_window_objective_ms{backend=\"app\"} 100", "the band policy's upperMs");
    }
}
