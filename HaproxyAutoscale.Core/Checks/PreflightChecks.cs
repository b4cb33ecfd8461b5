using System.Globalization;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Control;

namespace HaproxyAutoscale.Checks;

/// <summary>How a pre-flight finding bears on running the autoscaler.</summary>
public enum PreflightSeverity
{
    /// <summary>Checked and fine.</summary>
    Ok,

    /// <summary>Works, but probably not as meant (e.g. servers that will get unequal weights).</summary>
    Warning,

    /// <summary>The autoscaler cannot work as configured (unreachable socket, unknown server, no admin level).</summary>
    Problem,
}

/// <summary>One finding of the pre-flight checks.</summary>
/// <param name="Severity">Ok, warning or problem.</param>
/// <param name="Message">One line, starting with the endpoint or the configuration path it is about.</param>
public sealed record PreflightFinding(PreflightSeverity Severity, string Message);

/// <summary>
/// The checks behind <c>haproxy-autoscale check</c>, for embedders to run before starting: every endpoint answers,
/// every configured backend and server exists there, the socket allows admin commands, and the servers of a
/// backend get equal weights when enabled (or the difference is reported). The HAProxy version is reported, with a
/// warning below 2.4 (no dynamic servers). Nothing in HAProxy is changed.
/// </summary>
public static class PreflightChecks
{
    // "disable server" checks the level before it looks the server up: on an admin socket this name yields
    // "No such server." and changes nothing; on a lower level "Permission denied".
    private const string ProbeServer = "hpa-check-probe";

    /// <summary>
    /// Runs the checks against the options' <see cref="HaproxyOptions.Endpoints"/>. The options' own rules are
    /// <see cref="AutoscaleOptionsValidator"/>'s (with your policy and window registries): validate them first.
    /// </summary>
    public static async Task<IReadOnlyList<PreflightFinding>> RunAsync(AutoscaleOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var findings = new List<PreflightFinding>();
        if (options.Haproxy.Endpoints.Count == 0)
        {
            findings.Add(new(PreflightSeverity.Problem, "haproxy.endpoints: none configured"));
        }

        var controlOptions = new HaproxyControlOptions { Timeout = options.Haproxy.Timeout, ConnectTimeout = options.Haproxy.Timeout };
        foreach (string endpoint in options.Haproxy.Endpoints)
        {
            await using IHaproxyControl control = HaproxyControl.Create(endpoint, controlOptions);
            findings.AddRange(await RunAsync(options, control, cancellationToken).ConfigureAwait(false));
        }

        return findings;
    }

    /// <summary>Runs the checks of <paramref name="options"/>' backends against one instance.</summary>
    public static async Task<IReadOnlyList<PreflightFinding>> RunAsync(AutoscaleOptions options, IHaproxyControl instance, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(instance);
        var findings = new List<PreflightFinding>();
        try
        {
            HaproxyInfo info = await instance.ShowInfoAsync(cancellationToken).ConfigureAwait(false);
            findings.Add(new(PreflightSeverity.Ok, $"{instance.Endpoint}: {info.Name} {info.Version}, pid {info.Pid}"));
            if (HaproxyVersions.Warning(info) is { } old)
            {
                findings.Add(new(PreflightSeverity.Warning, $"{instance.Endpoint}: {old}"));
            }
        }
        catch (HaproxyControlException e)
        {
            findings.Add(new(PreflightSeverity.Problem, e.Message));
            return findings;
        }

        foreach (BackendOptions backend in options.Backends)
        {
            await CheckBackendAsync(instance, backend, findings, cancellationToken).ConfigureAwait(false);
        }

        return findings;
    }

    private static async Task CheckBackendAsync(IHaproxyControl control, BackendOptions backend, List<PreflightFinding> findings, CancellationToken cancellationToken)
    {
        IReadOnlyList<ServerState> states;
        try
        {
            states = await control.ShowServersStateAsync(backend.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownBackend)
        {
            findings.Add(new(PreflightSeverity.Problem, $"backends.{backend.Name}: {control.Endpoint} has no backend '{backend.Name}'"));
            return;
        }
        catch (HaproxyControlException e)
        {
            findings.Add(new(PreflightSeverity.Problem, $"backends.{backend.Name}: {e.Message}"));
            return;
        }

        foreach (ServerOptions server in backend.Servers)
        {
            ServerState? state = states.FirstOrDefault(s => s.Server == server.Name);
            findings.Add(state is null
                ? new(PreflightSeverity.Problem, $"backends.{backend.Name}.servers.{server.Name}: {control.Endpoint} has no server '{backend.Name}/{server.Name}'")
                : new(PreflightSeverity.Ok, $"backends.{backend.Name}.servers.{server.Name}: {state.AdminState.ToString().ToLowerInvariant()}, {state.OperationalState.ToString().ToLowerInvariant()}, weight {state.InitialWeight}"));
        }

        if (WeightMismatch(backend, states) is { } mismatch)
        {
            findings.Add(new(PreflightSeverity.Warning, $"backends.{backend.Name}: {mismatch}"));
        }

        try
        {
            await control.DisableServerAsync(backend.Name, ProbeServer, cancellationToken).ConfigureAwait(false);
            findings.Add(new(PreflightSeverity.Problem, $"{control.Endpoint}: unexpected: a server named '{ProbeServer}' exists in '{backend.Name}'"));
        }
        catch (HaproxyControlException e) when (e.Kind == HaproxyErrorKind.UnknownServer)
        {
            findings.Add(new(PreflightSeverity.Ok, $"{control.Endpoint}: admin commands allowed on backend '{backend.Name}'"));
        }
        catch (HaproxyControlException e)
        {
            findings.Add(new(PreflightSeverity.Problem, e.Kind == HaproxyErrorKind.PermissionDenied
                ? $"{control.Endpoint}: the socket does not allow admin commands (declare it with 'level admin')"
                : e.Message));
        }
    }

    // The weight each server of the backend serves with once enabled: a configured weight wins, else haproxy.cfg's
    // (srv_iweight). Unequal weights give servers unequal shares; that may be meant, so it is a warning.
    private static string? WeightMismatch(BackendOptions backend, IReadOnlyList<ServerState> states)
    {
        List<(string Server, int Weight, bool Configured)> weights = [.. states.Select(s =>
            backend.Servers.FirstOrDefault(o => o.Name == s.Server)?.Weight is { } configured ? (s.Server, configured, true) : (s.Server, s.InitialWeight, false))];
        if (weights.Select(w => w.Weight).Distinct().Count() <= 1)
        {
            return null;
        }

        string list = string.Join(", ", weights.Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.Server} {w.Weight}{(w.Configured ? " (weight in the autoscaler's configuration)" : "")}")));
        return $"servers get unequal weights when enabled, so unequal shares of traffic: {list}";
    }
}
