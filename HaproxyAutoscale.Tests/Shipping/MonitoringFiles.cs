using System.Text.Json;
using System.Text.RegularExpressions;

namespace HaproxyAutoscale.Tests.Shipping;

/// <summary>
/// The shipped Grafana dashboard and Prometheus rules (<c>HaproxyAutoscale.Cli/deploy/grafana</c>,
/// <c>deploy/prometheus</c>), read the way Grafana and Prometheus read them: the PromQL expressions and the metric
/// names they use.
/// </summary>
internal static partial class MonitoringFiles
{
    public static string Dashboard { get; } = Repository.File("HaproxyAutoscale.Cli", "deploy", "grafana", "haproxy-autoscale.json");

    public static string Rules { get; } = Repository.File("HaproxyAutoscale.Cli", "deploy", "prometheus", "haproxy-autoscale.rules.yml");

    public static string RulesTest { get; } = Repository.File("HaproxyAutoscale.Cli", "deploy", "prometheus", "haproxy-autoscale.rules.test.yml");

    /// <summary>Every PromQL expression of the dashboard's panels (each target's <c>expr</c>).</summary>
    public static IReadOnlyList<string> DashboardExpressions() => DashboardStrings("expr");

    /// <summary>The queries of the dashboard's variables (Grafana's <c>label_values(…)</c>).</summary>
    public static IReadOnlyList<string> DashboardVariableQueries() => DashboardStrings("definition");

    /// <summary>Every rule's <c>expr</c> in the rules file: on its line, or the block (<c>expr: |</c>) below it.</summary>
    public static IReadOnlyList<string> RuleExpressions()
    {
        string[] lines = File.ReadAllLines(Rules);
        var expressions = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            Match expr = ExprKey().Match(lines[i]);
            if (!expr.Success)
            {
                continue;
            }

            string value = expr.Groups["value"].Value.Trim();
            if (value is "|" or ">")
            {
                int indent = expr.Groups["indent"].Length;
                var block = new List<string>();
                while (i + 1 < lines.Length && (lines[i + 1].Trim().Length == 0 || lines[i + 1].Length - lines[i + 1].TrimStart().Length > indent))
                {
                    block.Add(lines[++i].Trim());
                }

                value = string.Join('\n', block).Trim();
            }

            expressions.Add(value);
        }

        return expressions;
    }

    /// <summary>The metric names an expression reads: every <c>haproxyautoscale_…</c> identifier.</summary>
    public static IReadOnlySet<string> MetricNames(IEnumerable<string> expressions) =>
        expressions.SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

    /// <summary>Dashboard queries as PromQL Prometheus can parse: Grafana's variables replaced by values.</summary>
    public static string WithoutVariables(string query) =>
        query.Replace("$__rate_interval", "5m", StringComparison.Ordinal).Replace("$instance", ".*", StringComparison.Ordinal).Replace("$backend", ".*", StringComparison.Ordinal);

    private static List<string> DashboardStrings(string key)
    {
        using JsonDocument dashboard = JsonDocument.Parse(File.ReadAllText(Dashboard));
        var found = new List<string>();
        Collect(dashboard.RootElement, key, found);
        return found;
    }

    private static void Collect(JsonElement element, string key, List<string> found)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty property in element.EnumerateObject())
                {
                    if (property.Name == key && property.Value.ValueKind == JsonValueKind.String)
                    {
                        found.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        Collect(property.Value, key, found);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (JsonElement item in element.EnumerateArray())
                {
                    Collect(item, key, found);
                }

                break;
        }
    }

    [GeneratedRegex(@"^(?<indent>\s*)(- )?expr:(?<value>.*)$")]
    private static partial Regex ExprKey();

    [GeneratedRegex(@"\bhaproxyautoscale_[a-z0-9_]+")]
    private static partial Regex MetricName();
}
