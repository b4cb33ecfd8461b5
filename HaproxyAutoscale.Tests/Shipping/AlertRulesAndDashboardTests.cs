using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using HaproxyAutoscale.Tests.Infrastructure;

namespace HaproxyAutoscale.Tests.Shipping;

/// <summary>
/// The shipped alert rules pass <c>promtool check rules</c> and their unit tests (<c>promtool test rules</c>), which
/// cover every alert firing and not firing; the dashboard is Grafana JSON whose every query Prometheus parses.
/// promtool comes from Debian's prometheus package (.ci/install-prometheus): skipped without it outside CI.
/// </summary>
public sealed partial class AlertRulesAndDashboardTests
{
    private static readonly string? Promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);

    [Fact]
    public async Task Rules_PromtoolCheckAndUnitTests_Pass()
    {
        string promtool = RequirePromtool();
        var (checkExit, check) = await ChildProcess.RunAsync(promtool, ["check", "rules", MonitoringFiles.Rules]);
        checkExit.Should().Be(0, check);
        check.Should().Contain("SUCCESS: 8 rules found");

        var (testExit, test) = await ChildProcess.RunAsync(promtool, ["test", "rules", MonitoringFiles.RulesTest]);
        testExit.Should().Be(0, test);
        test.Should().Contain("SUCCESS");
    }

    [Fact]
    public void RulesTest_EveryAlert_FiresAndDoesNotFire()
    {
        string[] alerts = [.. File.ReadLines(MonitoringFiles.Rules).Select(l => AlertName().Match(l)).Where(m => m.Success).Select(m => m.Groups["name"].Value)];
        alerts.Should().HaveCount(8);

        // Each "alertname: X" of the test file is followed by its exp_alerts: empty (does not fire) or a list (fires).
        string[] lines = File.ReadAllLines(MonitoringFiles.RulesTest);
        var cases = new List<(string Alert, bool Fires)>();
        for (int i = 0; i < lines.Length - 1; i++)
        {
            if (TestedAlert().Match(lines[i]) is { Success: true } tested)
            {
                cases.Add((tested.Groups["name"].Value, lines[i + 1].Trim() != "exp_alerts: []"));
            }
        }

        foreach (string alert in alerts)
        {
            cases.Should().Contain((alert, true), $"{alert} is tested firing");
            cases.Should().Contain((alert, false), $"{alert} is tested not firing");
        }
    }

    [Fact]
    public void Dashboard_IsGrafanaJsonWithAPrometheusInputAndABackendVariable()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(MonitoringFiles.Dashboard));
        JsonElement dashboard = document.RootElement;
        dashboard.GetProperty("schemaVersion").GetInt32().Should().BeGreaterThanOrEqualTo(36);
        dashboard.GetProperty("__inputs").EnumerateArray().Should().ContainSingle(i => i.GetProperty("name").GetString() == "DS_PROMETHEUS"
            && i.GetProperty("pluginId").GetString() == "prometheus");
        dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()).Should().Contain("backend");

        JsonElement[] panels = [.. dashboard.GetProperty("panels").EnumerateArray()];
        panels.Select(p => p.GetProperty("id").GetInt32()).Should().OnlyHaveUniqueItems();
        foreach (JsonElement panel in panels.Where(p => p.TryGetProperty("targets", out _)))
        {
            panel.GetProperty("datasource").GetProperty("uid").GetString().Should().Be("${DS_PROMETHEUS}");
            panel.GetProperty("targets").EnumerateArray().Should().OnlyContain(t => t.GetProperty("datasource").GetProperty("uid").GetString() == "${DS_PROMETHEUS}");
        }

        string[] titles = [.. panels.Select(p => p.GetProperty("title").GetString()!)];
        titles.Should().Contain(["Servers: active, desired, bounds", "Window value vs objective", "In flight", "Log coverage and blind", "Holds by gate", "Decisions",
            "Scale-up lag (decision to enabled)", "Provider start to ready", "Provider failures", "Leader",
            "Learned capacity per server", "Learned service time and workers", "Forecast floor vs active servers", "Evaluation pass", "Configuration reloads"]);
    }

    [Fact]
    public async Task Dashboard_EveryQuery_ParsesAsPromQL()
    {
        string promtool = RequirePromtool();
        using var dir = new TempDirectory();

        // Each panel's expression as a recording rule: promtool parses it as Prometheus would.
        var rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        IReadOnlyList<string> expressions = MonitoringFiles.DashboardExpressions();
        expressions.Should().HaveCountGreaterThan(15);
        for (int i = 0; i < expressions.Count; i++)
        {
            rules.Append(CultureInfo.InvariantCulture, $"      - record: dashboard:query{i}\n        expr: {JsonSerializer.Serialize(MonitoringFiles.WithoutVariables(expressions[i]))}\n");
        }

        await File.WriteAllTextAsync(dir.File("dashboard.rules.yml"), rules.ToString());
        var (exit, output) = await ChildProcess.RunAsync(promtool, ["check", "rules", dir.File("dashboard.rules.yml")]);
        exit.Should().Be(0, output);
    }

    private static string RequirePromtool()
    {
        if (Promtool is not null)
        {
            return Promtool;
        }

        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            throw new InvalidOperationException("promtool is missing in CI: .ci/test installs it with .ci/install-prometheus");
        }

        Assert.Skip("promtool is not installed (Debian's prometheus package; bash .ci/install-prometheus installs it)");
        return "";
    }

    [GeneratedRegex(@"^\s*- alert: (?<name>\S+)\s*$")]
    private static partial Regex AlertName();

    [GeneratedRegex(@"^\s*alertname: (?<name>\S+)\s*$")]
    private static partial Regex TestedAlert();
}
