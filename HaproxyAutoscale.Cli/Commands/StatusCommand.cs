using System.CommandLine;
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
                // One backend's object when one is asked for: the whole /status snapshots and writes every backend.
                IReadOnlyList<JsonElement> autoscaled = parseResult.GetValue(backend) is { } one
                    ? (await client.BackendAsync(one, cancellationToken).ConfigureAwait(false)).Backend is { } found ? [found] : []
                    : await client.StatusAsync(cancellationToken).ConfigureAwait(false);
                var view = AutoscalerView.From(autoscaled);
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
            IReadOnlyList<LogSenderView> senders = FleetStatus.SendersFrom(await client.SendersAsync(cancellationToken).ConfigureAwait(false));
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
                IReadOnlyList<ServerStat> stats = backend is null
                    ? await control.ShowStatAsync(cancellationToken).ConfigureAwait(false)
                    : await control.ShowStatForBackendAsync(backend, cancellationToken).ConfigureAwait(false);
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

        StatusOutput.Write(console, rows, versions, view, json, withEndpoint: controls.Count > 1);
        return ExitCodes.Success;
    }
}
