using System.CommandLine;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Cli.Commands;

/// <summary>
/// <c>check --config FILE</c>: validates the configuration, connects to every endpoint, checks that every configured
/// backend and server exists and that the socket allows admin commands. One line per finding; exit 0 all good, 1
/// problems, 2 configuration errors.
/// </summary>
internal static class CheckCommand
{
    // "disable server" checks the level before it looks the server up: on an admin socket this name yields
    // "No such server." and changes nothing; on a lower level "Permission denied".
    private const string ProbeServer = "hpa-check-probe";

    public static Command Create(CliConsole console)
    {
        var config = new Option<string>("--config") { Description = "The autoscaler configuration (JSON).", Required = true };
        var command = new Command("check", "Validate the configuration against the running HAProxy instances.") { config };
        command.SetAction((parseResult, cancellationToken) => RunAsync(console, parseResult.GetRequiredValue(config), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliConsole console, string configPath, CancellationToken cancellationToken)
    {
        (AutoscaleOptions? options, int exitCode) = await ConfigFile.LoadAsync(console, configPath, cancellationToken).ConfigureAwait(false);
        if (options is null)
        {
            return exitCode;
        }

        int problems = 0;
        void Report(bool ok, string finding)
        {
            console.Out.WriteLine($"{(ok ? "ok     " : "problem")}  {finding}");
            problems += ok ? 0 : 1;
        }

        Report(true, $"{configPath}: configuration valid ({options.Backends.Count} backend(s))");
        if (options.Endpoints.Count == 0)
        {
            Report(false, "haproxy.endpoints: none configured");
        }

        foreach (string endpoint in options.Endpoints)
        {
            await using IHaproxyControl control = HaproxyControl.Create(endpoint, new HaproxyControlOptions { Timeout = options.CommandTimeout, ConnectTimeout = options.CommandTimeout });
            try
            {
                HaproxyInfo info = await control.ShowInfoAsync(cancellationToken).ConfigureAwait(false);
                Report(true, $"{endpoint}: {info.Name} {info.Version}, pid {info.Pid}");
            }
            catch (HaproxyControlException e)
            {
                Report(false, e.Message);
                continue;
            }

            foreach (BackendOptions backend in options.Backends)
            {
                await CheckBackendAsync(control, backend, Report, cancellationToken).ConfigureAwait(false);
            }
        }

        return problems == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }

    private static async Task CheckBackendAsync(IHaproxyControl control, BackendOptions backend, Action<bool, string> report, CancellationToken cancellationToken)
    {
        IReadOnlyList<ServerState> states;
        try
        {
            states = await control.ShowServersStateAsync(backend.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownBackend)
        {
            report(false, $"backends.{backend.Name}: {control.Endpoint} has no backend '{backend.Name}'");
            return;
        }
        catch (HaproxyControlException e)
        {
            report(false, $"backends.{backend.Name}: {e.Message}");
            return;
        }

        foreach (ServerOptions server in backend.Servers)
        {
            ServerState? state = states.FirstOrDefault(s => s.Server == server.Name);
            report(state is not null, state is null
                ? $"backends.{backend.Name}.servers.{server.Name}: {control.Endpoint} has no server '{backend.Name}/{server.Name}'"
                : $"backends.{backend.Name}.servers.{server.Name}: {state.AdminState.ToString().ToLowerInvariant()}, {state.OperationalState.ToString().ToLowerInvariant()}");
        }

        try
        {
            await control.DisableServerAsync(backend.Name, ProbeServer, cancellationToken).ConfigureAwait(false);
            report(false, $"{control.Endpoint}: unexpected: a server named '{ProbeServer}' exists in '{backend.Name}'");
        }
        catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownServer)
        {
            report(true, $"{control.Endpoint}: admin commands allowed on backend '{backend.Name}'");
        }
        catch (HaproxyControlException e)
        {
            report(false, e.Kind == HaproxyErrorKind.PermissionDenied
                ? $"{control.Endpoint}: the socket does not allow admin commands (declare it with 'level admin')"
                : e.Message);
        }
    }
}
