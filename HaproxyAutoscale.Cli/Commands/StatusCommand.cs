using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HaproxyAutoscale.Cli.Admin;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary><c>status (--config FILE | --endpoint ADDR…)</c>: one row per server with its admin and operational state, weight, load.</summary>
internal static class StatusCommand
{
    public static Command Create(CliConsole console)
    {
        var endpoints = new Option<string[]>("--endpoint") { Description = "A stats socket: a path, unix@PATH, ipv4@HOST:PORT or ipv6@[ADDR]:PORT. Repeat for several HAProxy instances." };
        var config = new Option<string?>("--config") { Description = "Take the endpoints from this configuration file (haproxy.endpoints)." };
        var backend = new Option<string?>("--backend") { Description = "Only show this backend." };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of rows." };
        var fleet = new Option<bool>("--fleet") { Description = "Show one row per HAProxy instance instead: reachable, pid, uptime, requests counted per backend; with --admin, the log lines each sender delivered." };
        var admin = new Option<string?>("--admin") { Description = $"Also show the running autoscaler's view (role, paused, coverage) from its admin endpoint (run --admin), e.g. {AdminAddress.Default}." };
        var command = new Command("status", "Show every server's admin state, operational state, weight, sessions, queue and response time.")
        {
            endpoints, config, backend, json, admin, fleet,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(endpoints) is { Length: > 0 }) == (result.GetValue(config) is not null))
            {
                result.AddError("status needs either --config FILE or one or more --endpoint ADDR");
            }
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            string[] addresses = parseResult.GetValue(endpoints) ?? [];
            if (parseResult.GetValue(config) is { } configPath)
            {
                (AutoscaleOptions? options, int exitCode) = await ConfigFile.LoadAsync(console, configPath, cancellationToken).ConfigureAwait(false);
                if (options is null)
                {
                    return exitCode;
                }

                addresses = [.. options.Haproxy.Endpoints];
                if (addresses.Length == 0)
                {
                    return console.Fail($"{configPath}: haproxy.endpoints is empty", ExitCodes.Usage);
                }
            }

            bool verbose = parseResult.GetValue(CliConsole.VerboseOption);
            if (parseResult.GetValue(fleet))
            {
                return await RunFleetAsync(console, addresses, parseResult.GetValue(backend), parseResult.GetValue(json), parseResult.GetValue(admin), cancellationToken).ConfigureAwait(false);
            }

            if (parseResult.GetValue(admin) is not { } adminAddress)
            {
                return await RunAsync(console, addresses, parseResult.GetValue(backend), parseResult.GetValue(json), null, verbose, cancellationToken).ConfigureAwait(false);
            }

            return await AdminCommands.WithClientAsync(console, adminAddress, async client =>
            {
                var view = AutoscalerView.From(await client.StatusAsync(cancellationToken).ConfigureAwait(false));
                return await RunAsync(console, addresses, parseResult.GetValue(backend), parseResult.GetValue(json), view, verbose, cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunFleetAsync(CliConsole console, string[] addresses, string? backend, bool json, string? adminAddress, CancellationToken cancellationToken)
    {
        var controls = new List<IHaproxyControl>();
        await using var disposer = new AsyncDisposables(controls);
        foreach (string address in addresses)
        {
            if (!HaproxyEndpoint.TryParse(address, out HaproxyEndpoint? endpoint, out string? error))
            {
                return console.Fail(error!, ExitCodes.Usage);
            }

            controls.Add(HaproxyControl.Create(endpoint!));
        }

        if (adminAddress is null)
        {
            return await FleetStatus.RunAsync(console, controls, backend, json, [], cancellationToken).ConfigureAwait(false);
        }

        return await AdminCommands.WithClientAsync(console, adminAddress, async client =>
        {
            IReadOnlyList<LogSenderView> senders = FleetStatus.SendersFrom(await client.StatusDocumentAsync(cancellationToken).ConfigureAwait(false));
            return await FleetStatus.RunAsync(console, controls, backend, json, senders, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static async Task<int> RunAsync(CliConsole console, string[] addresses, string? backend, bool json, AutoscalerView? view, bool verbose, CancellationToken cancellationToken)
    {
        var controls = new List<IHaproxyControl>();
        foreach (string address in addresses)
        {
            if (!HaproxyEndpoint.TryParse(address, out HaproxyEndpoint? endpoint, out string? error))
            {
                return console.Fail(error!, ExitCodes.Usage);
            }

            controls.Add(HaproxyControl.Create(endpoint!));
        }

        var rows = new List<StatusRow>();
        var versions = new List<(string Endpoint, HaproxyInfo Info)>();
        try
        {
            await using var disposer = new AsyncDisposables(controls);
            foreach (IHaproxyControl control in controls)
            {
                IReadOnlyList<ServerStat> stats = await control.ShowStatAsync(cancellationToken).ConfigureAwait(false);
                var states = (await control.ShowServersStateAsync(backend, cancellationToken).ConfigureAwait(false))
                    .ToDictionary(s => (s.Backend, s.Server));
                foreach (ServerStat stat in stats.Where(s => backend is null || s.Backend == backend))
                {
                    ServerState? state = states.GetValueOrDefault((stat.Backend, stat.Server));
                    rows.Add(new StatusRow(control.Endpoint, stat, state));
                }

                versions.Add((control.Endpoint, await control.ShowInfoAsync(cancellationToken).ConfigureAwait(false)));
            }
        }
        catch (HaproxyControlException e)
        {
            return console.Fail(e, verbose);
        }

        bool withEndpoint = controls.Count > 1;
        List<WeightWarning> warnings = [.. WeightWarnings(rows)];
        if (json)
        {
            WriteJson(console.Out, rows, withEndpoint, warnings, view, versions.ToDictionary(v => v.Endpoint, v => v.Info.Version));
        }
        else
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

            TableWriter.Write(console.Out, table);
            console.Out.WriteLine();
            foreach ((string endpoint, HaproxyInfo info) in versions)
            {
                console.Out.WriteLine($"{endpoint}: {info.Name} {info.Version}, pid {info.Pid}");
            }
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

        return ExitCodes.Success;

        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
    }

    // Uneven weights are the quiet way an autoscaled backend goes wrong: a server the autoscaler enabled gets its
    // configured weight (10 by default) next to servers left at HAProxy's (1), or someone changed one by hand.
    private static IEnumerable<WeightWarning> WeightWarnings(List<StatusRow> rows)
    {
        foreach (var backend in rows.Where(r => r.State is not null).GroupBy(r => (r.Endpoint, r.Stat.Backend)))
        {
            List<string> findings = [];
            if (backend.Select(r => r.State!.InitialWeight).Distinct().Count() > 1)
            {
                findings.Add($"configured weights differ ({string.Join(", ", backend.Select(r => $"{r.Stat.Server} {r.State!.InitialWeight}"))})");
            }

            string[] changed = [.. backend
                .Where(r => r.State!.AdminState == ServerAdminState.Ready && r.State.UserWeight != r.State.InitialWeight)
                .Select(r => $"{r.Stat.Server} {r.State!.UserWeight} (configured {r.State.InitialWeight})")];
            if (changed.Length > 0)
            {
                findings.Add($"ready server{(changed.Length > 1 ? "s" : "")} not at the configured weight: {string.Join(", ", changed)}");
            }

            if (findings.Count > 0)
            {
                yield return new WeightWarning(backend.Key.Endpoint, backend.Key.Backend, string.Join("; ", findings));
            }
        }
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
                    }
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }));
    }

    private sealed class AsyncDisposables(IEnumerable<IAsyncDisposable> items) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (IAsyncDisposable item in items)
            {
                await item.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The running autoscaler's view of each backend it manages, from <c>GET /status</c>.</summary>
    private sealed record AutoscalerView(Dictionary<string, AutoscaledBackend> Backends)
    {
        public static AutoscalerView From(IReadOnlyList<JsonElement> backends) => new(backends.ToDictionary(
            b => b.GetProperty("backend").GetString()!,
            b => new AutoscaledBackend(
                b.GetProperty("servers").EnumerateArray().ToDictionary(s => s.GetProperty("server").GetString()!, s => s.GetProperty("role").GetString()!),
                b.GetProperty("servers").EnumerateArray().ToDictionary(
                    s => s.GetProperty("server").GetString()!, s => s.TryGetProperty("lifecycle", out JsonElement l) && l.GetString() is { } text ? text : "-"),
                b.GetProperty("paused").GetBoolean(),
                b.GetProperty("pausedUntil").GetString(),
                b.GetProperty("coverage") is { ValueKind: JsonValueKind.Number } c ? c.GetDouble() : null),
            StringComparer.Ordinal));
    }

    private sealed record AutoscaledBackend(Dictionary<string, string> Roles, Dictionary<string, string> Lifecycles, bool Paused, string? PausedUntil, double? Coverage)
    {
        public string PausedText => !Paused ? "no" : PausedUntil is null ? "until resumed" : $"until {PausedUntil}";

        public string CoverageText => Coverage?.ToString("0.##", CultureInfo.InvariantCulture) ?? "-";
    }

    private sealed record WeightWarning(string Endpoint, string Backend, string Text);

    private sealed record StatusRow(string Endpoint, ServerStat Stat, ServerState? State)
    {
        public string AdminState => (State?.AdminState ?? ServerAdminState.Ready).ToString().ToLowerInvariant();

        // show stat's weight is the effective one. For a server in maintenance after "set weight" it differs by
        // version: 2.6 keeps the weight it last served with, 3.0 reports the new user weight (0 after the immediate
        // scale-down). Show the weight haproxy.cfg gave it (srv_iweight): what the autoscaler enables it with (100 %)
        // unless its configuration sets a weight.
        public int Weight => State is { AdminState: ServerAdminState.Maint } state ? state.InitialWeight : Stat.Weight;

        public string OperState => State?.OperationalState switch
        {
            ServerOperationalState.Up => "up",
            ServerOperationalState.Starting => "starting",
            ServerOperationalState.Stopping => "stopping",
            _ => "down",
        };
    }
}
