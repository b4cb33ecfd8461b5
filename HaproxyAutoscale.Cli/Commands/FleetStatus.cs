using System.Globalization;
using System.Net;
using System.Text.Json;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// <c>status --fleet</c>: one row per HAProxy instance (reachable or why not, pid, uptime, the requests HAProxy counted
/// per backend) and, with <c>--admin</c>, what each log sender delivered to the running autoscaler's TCP source. An
/// unreachable instance is a row of its own, not the end of the report.
/// </summary>
internal static class FleetStatus
{
    public static async Task<int> RunAsync(CliConsole console, IReadOnlyList<IHaproxyControl> controls, string? backend, bool json, IReadOnlyList<LogSenderView> senders, CancellationToken cancellationToken)
    {
        InstanceRow[] instances = await Task.WhenAll(controls.Select(control => ReadAsync(control, backend, cancellationToken))).ConfigureAwait(false);
        if (json)
        {
            WriteJson(console.Out, instances, senders);
        }
        else
        {
            List<string[]> table = [["ENDPOINT", "REACHABLE", "PID", "UPTIME", "LOG_LINES", "REQUESTS"]];
            foreach (InstanceRow row in instances)
            {
                table.Add([row.Endpoint, row.Error is null ? "yes" : "no", row.Info?.Pid.ToString(CultureInfo.InvariantCulture) ?? "-",
                    row.Info is { } info ? Uptime(info.Uptime) : "-", LoggedBy(row.Endpoint, instances, senders)?.Lines.ToString(CultureInfo.InvariantCulture) ?? "-",
                    row.Backends is { } backends ? string.Join(", ", backends.Select(b => $"{b.Backend} {b.Requests}")) : "-"]);
            }

            TableWriter.Write(console.Out, table);
            if (senders.Count > 0)
            {
                console.Out.WriteLine();
                List<string[]> senderTable = [["LOG_SENDER", "CONNECTIONS", "LINES", "OVERSIZED", "MALFORMED"]];
                senderTable.AddRange(senders.Select(s => new[] { s.Sender, Text(s.Connections), Text(s.Lines), Text(s.Oversized), Text(s.Malformed) }));
                TableWriter.Write(console.Out, senderTable);
            }
        }

        foreach (InstanceRow row in instances.Where(r => r.Error is not null))
        {
            console.Error.WriteLine($"error: {row.Error}");
        }

        return instances.Any(r => r.Error is not null) ? ExitCodes.Failure : ExitCodes.Success;

        static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The senders of the running autoscaler's TCP log source, from <c>GET /senders</c> or <c>GET /status</c> (<c>logSenders</c>).</summary>
    public static IReadOnlyList<LogSenderView> SendersFrom(JsonElement status) =>
        status.TryGetProperty("logSenders", out JsonElement senders) && senders.ValueKind == JsonValueKind.Array
            ? [.. senders.EnumerateArray().Select(s => new LogSenderView(
                s.GetProperty("sender").GetString()!, s.GetProperty("connections").GetInt32(), s.GetProperty("lines").GetInt64(),
                s.GetProperty("oversized").GetInt64(), s.GetProperty("malformed").GetInt64()))]
            : [];

    private static async Task<InstanceRow> ReadAsync(IHaproxyControl control, string? backend, CancellationToken cancellationToken)
    {
        try
        {
            HaproxyInfo info = await control.ShowInfoAsync(cancellationToken).ConfigureAwait(false);
            IReadOnlyList<BackendStat> backends = await control.ShowBackendStatAsync(cancellationToken).ConfigureAwait(false);
            return new InstanceRow(control.Endpoint, info, [.. backends.Where(b => backend is null || b.Backend == backend)], null);
        }
        catch (HaproxyControlException e)
        {
            return new InstanceRow(control.Endpoint, null, null, e.Message);
        }
    }

    // A sender's lines belong to an instance when the sender's address is the instance's stats host and no other
    // instance shares that host (instances on one machine, or on UNIX sockets, cannot be told apart by address).
    private static LogSenderView? LoggedBy(string endpoint, IReadOnlyList<InstanceRow> instances, IReadOnlyList<LogSenderView> senders)
    {
        string? host = Host(endpoint);
        if (host is null || instances.Count(i => Host(i.Endpoint) == host) != 1)
        {
            return null;
        }

        return senders.FirstOrDefault(s => s.Sender == host);
    }

    private static string? Host(string endpoint) =>
        HaproxyEndpoint.TryParse(endpoint, out HaproxyEndpoint? parsed, out _) && parsed!.EndPoint is IPEndPoint ip ? ip.Address.ToString() : null;

    private static string Uptime(TimeSpan uptime) => uptime.TotalDays >= 1
        ? string.Create(CultureInfo.InvariantCulture, $"{(int)uptime.TotalDays}d{uptime.Hours}h")
        : uptime.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)uptime.TotalHours}h{uptime.Minutes}m")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)uptime.TotalMinutes}m{uptime.Seconds}s");

    private static void WriteJson(TextWriter output, IReadOnlyList<InstanceRow> instances, IReadOnlyList<LogSenderView> senders) =>
        output.WriteLine(JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("instances");
            foreach (InstanceRow row in instances)
            {
                writer.WriteStartObject();
                writer.WriteString("endpoint", row.Endpoint);
                writer.WriteBoolean("reachable", row.Error is null);
                writer.WriteString("error", row.Error);
                if (row.Info is { } info)
                {
                    writer.WriteNumber("pid", info.Pid);
                    writer.WriteNumber("uptimeSeconds", (long)info.Uptime.TotalSeconds);
                    writer.WriteString("version", info.Version);
                }
                else
                {
                    writer.WriteNull("pid");
                    writer.WriteNull("uptimeSeconds");
                    writer.WriteNull("version");
                }

                if (LoggedBy(row.Endpoint, instances, senders) is { } sender)
                {
                    writer.WriteNumber("logLines", sender.Lines);
                }
                else
                {
                    writer.WriteNull("logLines");
                }

                writer.WriteStartArray("backends");
                foreach (BackendStat b in row.Backends ?? [])
                {
                    writer.WriteStartObject();
                    writer.WriteString("backend", b.Backend);
                    writer.WriteNumber("requests", b.Requests);
                    writer.WriteNumber("sessions", b.CurrentSessions);
                    writer.WriteNumber("queue", b.CurrentQueue);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("logSenders");
            foreach (LogSenderView s in senders)
            {
                writer.WriteStartObject();
                writer.WriteString("sender", s.Sender);
                writer.WriteNumber("connections", s.Connections);
                writer.WriteNumber("lines", s.Lines);
                writer.WriteNumber("oversized", s.Oversized);
                writer.WriteNumber("malformed", s.Malformed);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }));

    private sealed record InstanceRow(string Endpoint, HaproxyInfo? Info, IReadOnlyList<BackendStat>? Backends, string? Error);
}

/// <summary>One log sender as the admin endpoint reports it.</summary>
internal sealed record LogSenderView(string Sender, int Connections, long Lines, long Oversized, long Malformed);
