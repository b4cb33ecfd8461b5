namespace HaproxyAutoscale.Control;

/// <summary>
/// Several HAProxy instances commanded as one (an HA pair, a fleet behind one autoscaler). As an
/// <see cref="IHaproxyControl"/> a command goes to every instance in parallel and succeeds only if it succeeded
/// everywhere; the per-instance outcome is available from <see cref="ExecuteOnEachAsync"/>.
/// </summary>
public interface IHaproxyFanOut : IHaproxyControl
{
    /// <summary>The instances, in the order given.</summary>
    IReadOnlyList<IHaproxyControl> Instances { get; }

    /// <summary>Runs a command on every instance in parallel; one outcome per instance, in order, never throws for an instance's failure.</summary>
    Task<IReadOnlyList<EndpointResult<string>>> ExecuteOnEachAsync(string command, CancellationToken cancellationToken = default);
}

/// <summary>The outcome of a command on one instance.</summary>
/// <typeparam name="T">The answer's type.</typeparam>
/// <param name="Endpoint">The instance's endpoint.</param>
/// <param name="Value">The answer, when it succeeded.</param>
/// <param name="Error">The failure, or <see langword="null"/>.</param>
public sealed record EndpointResult<T>(string Endpoint, T? Value, HaproxyControlException? Error)
{
    /// <summary>Whether the command succeeded on this instance.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>A server whose administrative state is not the same on every instance (or missing on some).</summary>
/// <param name="Backend">The backend.</param>
/// <param name="Server">The server.</param>
/// <param name="States">Per endpoint, the state there, or <see langword="null"/> where the server is unknown.</param>
public sealed record ServerStateDifference(string Backend, string Server, IReadOnlyDictionary<string, ServerAdminState?> States);

/// <summary>Reads state from every instance of a fan-out and compares it.</summary>
public static class HaproxyFanOutExtensions
{
    /// <summary><c>show servers state</c> on every instance.</summary>
    public static Task<IReadOnlyList<EndpointResult<IReadOnlyList<ServerState>>>> ShowServersStateOnEachAsync(this IHaproxyFanOut fanOut, string? backend = null, CancellationToken cancellationToken = default) =>
        OnEachAsync(fanOut, control => control.ShowServersStateAsync(backend, cancellationToken));

    /// <summary>Servers whose admin state differs between the instances that answered.</summary>
    public static IReadOnlyList<ServerStateDifference> FindDifferences(IReadOnlyList<EndpointResult<IReadOnlyList<ServerState>>> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var answered = states.Where(s => s.Succeeded).ToList();
        var servers = answered.SelectMany(s => s.Value!).Select(s => (s.Backend, s.Server)).Distinct();
        var differences = new List<ServerStateDifference>();
        foreach ((string backend, string server) in servers)
        {
            var perEndpoint = answered.ToDictionary(
                s => s.Endpoint,
                s => s.Value!.FirstOrDefault(r => r.Backend == backend && r.Server == server)?.AdminState);
            if (perEndpoint.Values.Distinct().Count() > 1)
            {
                differences.Add(new ServerStateDifference(backend, server, perEndpoint));
            }
        }

        return differences;
    }

    internal static async Task<IReadOnlyList<EndpointResult<T>>> OnEachAsync<T>(IHaproxyFanOut fanOut, Func<IHaproxyControl, Task<T>> action)
    {
        Task<EndpointResult<T>>[] tasks = [.. fanOut.Instances.Select(async control =>
        {
            try
            {
                return new EndpointResult<T>(control.Endpoint, await action(control).ConfigureAwait(false), null);
            }
            catch (HaproxyControlException e)
            {
                return new EndpointResult<T>(control.Endpoint, default, e);
            }
        })];
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }
}

/// <inheritdoc cref="IHaproxyFanOut"/>
internal sealed class FanOutHaproxyControl : IHaproxyFanOut
{
    public FanOutHaproxyControl(IReadOnlyList<IHaproxyControl> instances)
    {
        if (instances.Count == 0)
        {
            throw new ArgumentException("a fan-out needs at least one instance", nameof(instances));
        }

        Instances = instances;
        Endpoint = string.Join(", ", instances.Select(i => i.Endpoint));
    }

    public IReadOnlyList<IHaproxyControl> Instances { get; }

    public string Endpoint { get; }

    public Task<IReadOnlyList<EndpointResult<string>>> ExecuteOnEachAsync(string command, CancellationToken cancellationToken = default) =>
        HaproxyFanOutExtensions.OnEachAsync(this, control => control.ExecuteAsync(command, cancellationToken));

    public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<EndpointResult<string>> results = await ExecuteOnEachAsync(command, cancellationToken).ConfigureAwait(false);
        ThrowIfAnyFailed(results, command);
        return results[0].Value!;
    }

    public async Task<IReadOnlyList<CommandResult>> ExecuteBatchAsync(IReadOnlyList<string> commands, CancellationToken cancellationToken = default)
    {
        IReadOnlyList<EndpointResult<IReadOnlyList<CommandResult>>> results =
            await HaproxyFanOutExtensions.OnEachAsync(this, control => control.ExecuteBatchAsync(commands, cancellationToken)).ConfigureAwait(false);
        ThrowIfAnyFailed(results, string.Join(';', commands));

        // A command of the batch failed if it failed on any instance; report the first such failure.
        return [.. commands.Select((command, i) =>
            results.Select(r => r.Value![i]).FirstOrDefault(r => !r.Succeeded) ?? results[0].Value![i])];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IHaproxyControl instance in Instances)
        {
            await instance.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void ThrowIfAnyFailed<T>(IReadOnlyList<EndpointResult<T>> results, string command)
    {
        var failures = results.Where(r => !r.Succeeded).ToList();
        if (failures.Count > 0)
        {
            HaproxyControlException first = failures[0].Error!;
            string where = failures.Count == results.Count ? "on every instance" : $"on {failures.Count} of {results.Count} instances (the others applied it)";
            throw new HaproxyControlException(
                first.Kind,
                string.Join(", ", failures.Select(f => f.Endpoint)),
                command,
                $"{where}: " + string.Join("; ", failures.Select(f => $"{f.Endpoint}: {f.Error!.Answer}")),
                first);
        }
    }
}
