using System.Buffers;
using System.Globalization;

namespace HaproxyAutoscale.Control;

/// <summary>Creates the built-in controls.</summary>
public static class HaproxyControl
{
    /// <summary>A control over one stats socket (UNIX or TCP, see <see cref="HaproxyEndpoint"/>) with default options.</summary>
    public static IHaproxyControl Create(HaproxyEndpoint endpoint) => Create(endpoint, new HaproxyControlOptions());

    /// <summary>A control over one stats socket (UNIX or TCP, see <see cref="HaproxyEndpoint"/>).</summary>
    public static IHaproxyControl Create(HaproxyEndpoint endpoint, HaproxyControlOptions options) => new SocketHaproxyControl(endpoint, options);

    /// <summary>Several instances commanded as one (see <see cref="IHaproxyFanOut"/>); disposing it disposes them.</summary>
    public static IHaproxyFanOut FanOut(IReadOnlyList<IHaproxyControl> instances) => new FanOutHaproxyControl(instances);

    /// <summary>A control over one stats socket given by its address, with default options.</summary>
    /// <exception cref="FormatException">The address is not valid.</exception>
    public static IHaproxyControl Create(string address) => Create(HaproxyEndpoint.Parse(address));

    /// <summary>A control over one stats socket given by its address.</summary>
    /// <exception cref="FormatException">The address is not valid.</exception>
    public static IHaproxyControl Create(string address, HaproxyControlOptions options) => Create(HaproxyEndpoint.Parse(address), options);
}

/// <summary>Typed Runtime API commands. Names are checked before any command is built.</summary>
public static class HaproxyControlExtensions
{
    private static readonly SearchValues<char> NameChars = HaproxyNames.Chars;

    /// <summary><c>enable server b/s</c>: leaves maintenance (state <c>ready</c>).</summary>
    public static Task EnableServerAsync(this IHaproxyControl control, string backend, string server, CancellationToken cancellationToken = default) =>
        control.ExecuteAsync($"enable server {ServerName(control, backend, server)}", cancellationToken);

    /// <summary><c>disable server b/s</c>: puts the server into maintenance.</summary>
    public static Task DisableServerAsync(this IHaproxyControl control, string backend, string server, CancellationToken cancellationToken = default) =>
        control.ExecuteAsync($"disable server {ServerName(control, backend, server)}", cancellationToken);

    /// <summary><c>set server b/s state ready|drain|maint</c>.</summary>
    public static Task SetServerStateAsync(this IHaproxyControl control, string backend, string server, ServerAdminState state, CancellationToken cancellationToken = default) =>
        control.ExecuteAsync($"set server {ServerName(control, backend, server)} state {state.ToString().ToLowerInvariant()}", cancellationToken);

    /// <summary><c>set weight b/s N</c> with an absolute weight (0 to 256).</summary>
    public static Task SetWeightAsync(this IHaproxyControl control, string backend, string server, int weight, CancellationToken cancellationToken = default)
    {
        string name = ServerName(control, backend, server);
        return weight is < 0 or > 256
            ? throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, control.Endpoint, $"set weight {name} {weight}", "a weight is between 0 and 256 (nothing was sent)")
            : control.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"set weight {name} {weight}"), cancellationToken);
    }

    /// <summary><c>set weight b/s N%</c>: a percentage of the server's initial weight (0 to 100).</summary>
    public static Task SetWeightPercentAsync(this IHaproxyControl control, string backend, string server, int percent, CancellationToken cancellationToken = default)
    {
        string name = ServerName(control, backend, server);
        return percent is < 0 or > 100
            ? throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, control.Endpoint, $"set weight {name} {percent}%", "a percentage is between 0 and 100 (nothing was sent)")
            : control.ExecuteAsync(string.Create(CultureInfo.InvariantCulture, $"set weight {name} {percent}%"), cancellationToken);
    }

    /// <summary><c>show stat -1 4 -1</c>: one row per server.</summary>
    public static async Task<IReadOnlyList<ServerStat>> ShowStatAsync(this IHaproxyControl control, CancellationToken cancellationToken = default)
    {
        var rows = new List<ServerStat>();
        await control.ReadServerStatAsync(rows.Add, names: null, cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary>
    /// <c>show stat BACKEND 6 -1</c>: one row per server of <paramref name="backend"/>, without reading every other
    /// backend's (at 10,000 backends the whole answer is ~80,000 rows). HAProxy finds the proxy by name, and a frontend
    /// of the same name may be found first (the answer then lacks the backend's own row): then the backend is asked
    /// for by its id (<c>show stat #ID 6 -1</c>), which <c>show servers state BACKEND</c> gives. An instance without
    /// the backend throws <see cref="HaproxyErrorKind.UnknownBackend"/>.
    /// </summary>
    public static async Task<IReadOnlyList<ServerStat>> ShowStatForBackendAsync(this IHaproxyControl control, string backend, CancellationToken cancellationToken = default)
    {
        var rows = new List<ServerStat>();
        string? Named(ReadOnlySpan<char> name) => name.SequenceEqual(backend) ? backend : null;
        var named = new ServerStatLines(control.Endpoint, rows.Add, Named);
        await control.ReadLinesAsync($"show stat {ProxyName(control, backend)} 6 -1", named, cancellationToken).ConfigureAwait(false);
        if (!named.BackendRowRead && await BackendIdAsync(control, backend, cancellationToken).ConfigureAwait(false) is { } id)
        {
            await control.ReadLinesAsync($"show stat #{id} 6 -1", new ServerStatLines(control.Endpoint, rows.Add, Named), cancellationToken).ConfigureAwait(false);
        }

        return rows;
    }

    // The backend's id (be_id of its servers' rows in show servers state, which finds backends only); null for a
    // backend without servers.
    private static async Task<int?> BackendIdAsync(IHaproxyControl control, string backend, CancellationToken cancellationToken)
    {
        string command = $"show servers state {ProxyName(control, backend)}";
        var rows = new ServersStateLines(control.Endpoint, command, _ => { });
        await control.ReadLinesAsync(command, rows, cancellationToken).ConfigureAwait(false);
        return rows.FirstBackendId;
    }

    /// <summary><c>show stat -1 2 -1</c>: one row per backend with HAProxy's request, queue and error counters.</summary>
    public static async Task<IReadOnlyList<BackendStat>> ShowBackendStatAsync(this IHaproxyControl control, CancellationToken cancellationToken = default)
    {
        var rows = new List<BackendStat>();
        await control.ReadBackendStatAsync((string backend, in BackendCounters c) => rows.Add(BackendStat.Of(backend, c)), names: null, cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary><c>show servers state [backend]</c>: admin and operational state of every server.</summary>
    public static async Task<IReadOnlyList<ServerState>> ShowServersStateAsync(this IHaproxyControl control, string? backend = null, CancellationToken cancellationToken = default)
    {
        var rows = new List<ServerState>();
        await control.ReadServersStateAsync(backend, row => rows.Add(row.ToState()), backends: null, servers: null, cancellationToken).ConfigureAwait(false);
        return rows;
    }

    // The answers above handed over row by row as they are read, with the names of the wanted backends and servers
    // (names, backends, servers: null for a row not wanted) instead of a new string per row: the counter poll and the reconcile.
    internal static Task ReadBackendStatAsync(this IHaproxyControl control, BackendRow row, RowNames? names, CancellationToken cancellationToken) =>
        control.ReadLinesAsync("show stat -1 2 -1", new BackendStatLines(control.Endpoint, row, names), cancellationToken);

    internal static Task ReadServerStatAsync(this IHaproxyControl control, Action<ServerStat> row, RowNames? names, CancellationToken cancellationToken) =>
        control.ReadLinesAsync("show stat -1 4 -1", new ServerStatLines(control.Endpoint, row, names), cancellationToken);

    internal static Task ReadServersStateAsync(this IHaproxyControl control, string? backend, Action<ServerStateRow> row, RowNames? backends, RowServerNames? servers,
        CancellationToken cancellationToken)
    {
        string command = backend is null ? "show servers state" : $"show servers state {ProxyName(control, backend)}";
        return control.ReadLinesAsync(command, new ServersStateLines(control.Endpoint, command, row, backends, servers), cancellationToken);
    }

    /// <summary><c>show info</c>: version, PID, uptime.</summary>
    public static async Task<HaproxyInfo> ShowInfoAsync(this IHaproxyControl control, CancellationToken cancellationToken = default) =>
        RuntimeApiParsers.ParseInfo(await control.ExecuteAsync("show info", cancellationToken).ConfigureAwait(false));

    /// <summary>Whether a backend or server name can be sent: HAProxy's name characters, or <c>#id</c>.</summary>
    public static bool IsValidName(string name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 256
        && (!name.AsSpan().ContainsAnyExcept(NameChars) || (name[0] == '#' && name.Length > 1 && name.AsSpan(1).ContainsAnyExceptInRange('0', '9') == false));

    // A ';', newline or space in a name would let HAProxy run a second command: refuse before building anything.
    internal static string ServerName(IHaproxyControl control, string backend, string server) =>
        $"{ProxyName(control, backend)}/{CheckName(control, server, "server")}";

    private static string ProxyName(IHaproxyControl control, string backend) => CheckName(control, backend, "backend");

    private static string CheckName(IHaproxyControl control, string name, string what) =>
        IsValidName(name)
            ? name
            : throw new HaproxyControlException(HaproxyErrorKind.InvalidArgument, control.Endpoint, $"(a command on {what} '{Printable(name)}')", $"invalid {what} name: only {HaproxyNames.Description} or #id are allowed (nothing was sent)");

    private static string Printable(string name) => name.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);
}
