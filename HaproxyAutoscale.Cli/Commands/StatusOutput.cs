using System.Globalization;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// Prints what <c>status</c> read: the table (and each instance's version) or the JSON array on stdout, then the
/// warnings on stderr.
/// </summary>
internal static class StatusOutput
{
    public static void Write(CliConsole console, List<StatusRow> rows, List<(string Endpoint, HaproxyInfo Info)> versions, AutoscalerView? view, bool json, bool withEndpoint)
    {
        List<WeightWarning> warnings = [.. WeightWarning.Find(rows)];
        if (json)
        {
            WriteJson(console.Out, rows, withEndpoint, warnings, view, versions.ToDictionary(v => v.Endpoint, v => v.Info.Version));
        }
        else
        {
            WriteTable(console.Out, rows, withEndpoint, view, versions);
        }

        // On stderr, after the table: stdout stays the table (and each instance's version) or the JSON array that scripts read.
        foreach ((string endpoint, HaproxyInfo info) in versions)
        {
            if (HaproxyVersions.Warning(info) is { } old)
            {
                console.Error.WriteLine($"warning: {(withEndpoint ? endpoint + ": " : "")}{old}");
            }
        }

        foreach (WeightWarning warning in warnings)
        {
            console.Error.WriteLine($"warning: {(withEndpoint ? warning.Endpoint + ": " : "")}backend {warning.Backend}: {warning.Text}");
        }
    }

    private static void WriteTable(TextWriter output, List<StatusRow> rows, bool withEndpoint, AutoscalerView? view, List<(string Endpoint, HaproxyInfo Info)> versions)
    {
        string[] header = ["BACKEND", "SERVER", "ADMIN", "OPER", "WEIGHT", "SESSIONS", "QUEUE", "RTIME_MS"];
        if (view is not null)
        {
            header = [.. header, "ROLE", "LIFECYCLE", "PAUSED", "COVERAGE"];
        }

        List<string[]> table = [withEndpoint ? ["ENDPOINT", .. header] : header];
        foreach (StatusRow r in rows)
        {
            string[] cells = [r.Stat.Backend, r.Stat.Server, r.AdminState, r.OperState, Text(r.Weight), Text(r.Stat.CurrentSessions), Text(r.Stat.CurrentQueue), Text(r.Stat.ResponseTimeMs)];
            if (view is not null)
            {
                AutoscaledBackend? scaled = view.Backends.GetValueOrDefault(r.Stat.Backend);
                cells = [.. cells, scaled?.Roles.GetValueOrDefault(r.Stat.Server) ?? "-", scaled?.Lifecycles.GetValueOrDefault(r.Stat.Server) ?? "-", scaled?.PausedText ?? "-", scaled?.CoverageText ?? "-"];
            }

            table.Add(withEndpoint ? [r.Endpoint, .. cells] : cells);
        }

        TableWriter.Write(output, table);
        foreach ((string backend, AutoscaledBackend scaled) in view?.Backends ?? [])
        {
            if (scaled.ZeroText is { } zero)
            {
                output.WriteLine($"{backend}: {zero}");
            }
        }

        output.WriteLine();
        foreach ((string endpoint, HaproxyInfo info) in versions)
        {
            output.WriteLine($"{endpoint}: {info.Name} {info.Version}, pid {info.Pid}");
        }

        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
    }

    private static void WriteJson(TextWriter output, List<StatusRow> rows, bool withEndpoint, List<WeightWarning> warnings, AutoscalerView? view, Dictionary<string, string> versions)
    {
        output.WriteLine(JsonOutput.Write(writer =>
        {
            writer.WriteStartArray();
            foreach (StatusRow r in rows)
            {
                writer.WriteStartObject();
                if (withEndpoint)
                {
                    writer.WriteString("endpoint", r.Endpoint);
                }

                writer.WriteString("backend", r.Stat.Backend);
                writer.WriteString("server", r.Stat.Server);
                writer.WriteString("adminState", r.AdminState);
                writer.WriteString("operState", r.OperState);
                writer.WriteNumber("weight", r.Weight);
                if (r.State is { } state)
                {
                    writer.WriteNumber("initialWeight", state.InitialWeight);
                }
                else
                {
                    writer.WriteNull("initialWeight");
                }

                writer.WriteBoolean("weightMismatch", warnings.Exists(w => w.Endpoint == r.Endpoint && w.Backend == r.Stat.Backend));
                writer.WriteNumber("sessions", r.Stat.CurrentSessions);
                writer.WriteNumber("queue", r.Stat.CurrentQueue);
                writer.WriteNumber("rtimeMs", r.Stat.ResponseTimeMs);
                writer.WriteString("haproxyVersion", versions.GetValueOrDefault(r.Endpoint));
                if (view is not null)
                {
                    // null: a backend or server the autoscaler does not manage
                    AutoscaledBackend? scaled = view.Backends.GetValueOrDefault(r.Stat.Backend);
                    writer.WriteString("role", scaled?.Roles.GetValueOrDefault(r.Stat.Server));
                    writer.WriteString("lifecycle", scaled?.Lifecycles.GetValueOrDefault(r.Stat.Server));
                    if (scaled is null)
                    {
                        writer.WriteNull("paused");
                        writer.WriteNull("pausedUntil");
                        writer.WriteNull("coverage");
                        writer.WriteNull("zero");
                        writer.WriteNull("waking");
                    }
                    else
                    {
                        writer.WriteBoolean("paused", scaled.Paused);
                        writer.WriteString("pausedUntil", scaled.PausedUntil);
                        if (scaled.Coverage is { } coverage)
                        {
                            writer.WriteNumber("coverage", coverage);
                        }
                        else
                        {
                            writer.WriteNull("coverage");
                        }

                        writer.WriteBoolean("zero", scaled.Zero);
                        if (scaled.Waking is { } waking)
                        {
                            writer.WriteStartObject("waking");
                            writer.WriteString("since", waking.Since);
                            writer.WriteNumber("held", waking.Held);
                            writer.WriteEndObject();
                        }
                        else
                        {
                            writer.WriteNull("waking");
                        }
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }));
    }
}
