using System.Globalization;

namespace HaproxyAutoscale.Control;

/// <summary>One server row of <c>show stat</c>; columns are found by their header name.</summary>
/// <param name="Backend">pxname.</param>
/// <param name="Server">svname.</param>
/// <param name="Status">status as HAProxy prints it: <c>UP</c>, <c>DOWN</c>, <c>MAINT</c>, <c>DRAIN</c>, <c>no check</c>, <c>UP 1/3</c>…</param>
/// <param name="Weight">Effective weight (ramps during slowstart).</param>
/// <param name="CurrentSessions">scur.</param>
/// <param name="CurrentQueue">qcur.</param>
/// <param name="ResponseTimeMs">rtime: average response time over the last 1024 requests.</param>
/// <param name="IsActive">act: an active (not backup) server.</param>
/// <param name="IsBackup">bck.</param>
/// <param name="CheckStatus">check_status, empty without health checks.</param>
public sealed record ServerStat(string Backend, string Server, string Status, int Weight, int CurrentSessions, int CurrentQueue, int ResponseTimeMs, bool IsActive, bool IsBackup, string CheckStatus);

/// <summary>One backend row (<c>BACKEND</c>) of <c>show stat</c>: HAProxy's own counters, summed over its servers.</summary>
/// <param name="Backend">pxname.</param>
/// <param name="Requests">req_tot (HTTP requests) when the backend is in HTTP mode, else stot (sessions): what one log line stands for.</param>
/// <param name="CurrentQueue">qcur: requests waiting for a server.</param>
/// <param name="CurrentSessions">scur.</param>
/// <param name="ConnectionErrors">econ: failed connections to servers.</param>
/// <param name="ResponseErrors">eresp: failed or aborted responses.</param>
/// <param name="Responses5xx">hrsp_5xx.</param>
/// <param name="QueueTimeMs">qtime: average queue time over the last 1024 requests.</param>
/// <param name="ResponseTimeMs">rtime: average response time over the last 1024 requests.</param>
public sealed record BackendStat(string Backend, long Requests, int CurrentQueue, int CurrentSessions, long ConnectionErrors, long ResponseErrors, long Responses5xx, int QueueTimeMs, int ResponseTimeMs)
{
    internal static BackendStat Of(string backend, in BackendCounters c) =>
        new(backend, c.Requests, c.CurrentQueue, c.CurrentSessions, c.ConnectionErrors, c.ResponseErrors, c.Responses5xx, c.QueueTimeMs, c.ResponseTimeMs);
}

/// <summary>
/// A <see cref="BackendStat"/> row's counters as a value: the counter poll reads 10,000 rows an interval at 10,000
/// backends, and each backend keeps its last one (an object per row held by every backend made each young collection
/// scan every backend).
/// </summary>
internal readonly record struct BackendCounters(long Requests, int CurrentQueue, int CurrentSessions, long ConnectionErrors, long ResponseErrors, long Responses5xx,
    int QueueTimeMs, int ResponseTimeMs)
{
    /// <summary>Two instances' rows of one backend: counts added, the averages' larger one.</summary>
    public BackendCounters Add(in BackendCounters other) => new(Requests + other.Requests, CurrentQueue + other.CurrentQueue, CurrentSessions + other.CurrentSessions,
        ConnectionErrors + other.ConnectionErrors, ResponseErrors + other.ResponseErrors, Responses5xx + other.Responses5xx,
        Math.Max(QueueTimeMs, other.QueueTimeMs), Math.Max(ResponseTimeMs, other.ResponseTimeMs));
}

/// <summary>A backend row of <c>show stat</c>, handed over as it is read.</summary>
internal delegate void BackendRow(string backend, in BackendCounters counters);

/// <summary>Operational state of a server (<c>srv_op_state</c>).</summary>
public enum ServerOperationalState
{
    /// <summary>0: stopped.</summary>
    Down = 0,

    /// <summary>1: starting.</summary>
    Starting = 1,

    /// <summary>2: running.</summary>
    Up = 2,

    /// <summary>3: stopping.</summary>
    Stopping = 3,
}

/// <summary>The <c>srv_admin_state</c> bit field of <c>show servers state</c>.</summary>
[Flags]
public enum ServerAdminFlags
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>0x01: forced maintenance (CLI or API).</summary>
    ForcedMaintenance = 0x01,

    /// <summary>0x02: maintenance inherited from a tracked server.</summary>
    InheritedMaintenance = 0x02,

    /// <summary>0x04: declared <c>disabled</c> in the configuration. Stays set after <c>enable server</c>: not maintenance by itself.</summary>
    ConfiguredDisabled = 0x04,

    /// <summary>0x08: forced drain.</summary>
    ForcedDrain = 0x08,

    /// <summary>0x10: drain inherited from a tracked server.</summary>
    InheritedDrain = 0x10,

    /// <summary>0x20: maintenance because DNS resolution failed.</summary>
    ResolutionMaintenance = 0x20,
}

/// <summary>One row of <c>show servers state</c>.</summary>
/// <param name="Backend">be_name.</param>
/// <param name="Server">srv_name.</param>
/// <param name="Address">srv_addr.</param>
/// <param name="OperationalState">srv_op_state.</param>
/// <param name="AdminFlags">srv_admin_state.</param>
/// <param name="UserWeight">srv_uweight.</param>
/// <param name="InitialWeight">srv_iweight.</param>
public sealed record ServerState(string Backend, string Server, string Address, ServerOperationalState OperationalState, ServerAdminFlags AdminFlags, int UserWeight, int InitialWeight)
{
    /// <summary>srv_port: the port the server is addressed on, or <see langword="null"/> when HAProxy gives none.</summary>
    public int? Port { get; init; }

    /// <summary>The administrative state the flags amount to: maintenance wins over drain; 0x04 alone is ready.</summary>
    public ServerAdminState AdminState => AdminStateOf(AdminFlags);

    internal static ServerAdminState AdminStateOf(ServerAdminFlags flags) =>
        (flags & (ServerAdminFlags.ForcedMaintenance | ServerAdminFlags.InheritedMaintenance | ServerAdminFlags.ResolutionMaintenance)) != 0 ? ServerAdminState.Maint
        : (flags & (ServerAdminFlags.ForcedDrain | ServerAdminFlags.InheritedDrain)) != 0 ? ServerAdminState.Drain
        : ServerAdminState.Ready;
}

/// <summary>
/// A <see cref="ServerState"/> row as the reconcile reads it: a value, not an object per row (80,000 rows a pass at
/// 10,000 backends), its names the configuration's own strings.
/// </summary>
internal readonly record struct ServerStateRow(string Backend, string Server, string Address, ServerOperationalState OperationalState, ServerAdminFlags AdminFlags,
    int UserWeight, int InitialWeight, int? Port)
{
    public ServerAdminState AdminState => ServerState.AdminStateOf(AdminFlags);

    public ServerState ToState() => new(Backend, Server, Address, OperationalState, AdminFlags, UserWeight, InitialWeight) { Port = Port };
}

/// <summary>What <c>show info</c> says about the process.</summary>
/// <param name="Name">Name (HAProxy).</param>
/// <param name="Version">Version.</param>
/// <param name="Pid">Pid.</param>
/// <param name="Uptime">Uptime_sec.</param>
/// <param name="Fields">Every <c>Key: value</c> line.</param>
public sealed record HaproxyInfo(string Name, string Version, int Pid, TimeSpan Uptime, IReadOnlyDictionary<string, string> Fields)
{
    /// <summary>
    /// The release number at the start of <see cref="Version"/> (<c>3.0.11-9e587df</c> → 3.0.11), or
    /// <see langword="null"/> when it does not start with one: what to compare when a command needs a given release.
    /// </summary>
    public Version? Release => HaproxyVersions.Parse(Version);
}

/// <summary>Parsers of Runtime API answers (the long ones read line by line: <see cref="IAnswerLines"/>).</summary>
internal static class RuntimeApiParsers
{
    public static IReadOnlyList<ServerStat> ParseShowStat(string answer, string endpoint)
    {
        var rows = new List<ServerStat>();
        AnswerLinesExtensions.TakeAll(new ServerStatLines(endpoint, rows.Add), answer);
        return rows;
    }

    public static IReadOnlyList<BackendStat> ParseBackendStat(string answer, string endpoint)
    {
        var rows = new List<BackendStat>();
        AnswerLinesExtensions.TakeAll(new BackendStatLines(endpoint, (string backend, in BackendCounters c) => rows.Add(BackendStat.Of(backend, c))), answer);
        return rows;
    }

    public static IReadOnlyList<ServerState> ParseServersState(string answer, string endpoint, string command)
    {
        var rows = new List<ServerState>();
        AnswerLinesExtensions.TakeAll(new ServersStateLines(endpoint, command, row => rows.Add(row.ToState())), answer);
        return rows;
    }

    public static HaproxyInfo ParseInfo(string answer)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in answer.Split('\n'))
        {
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
            {
                fields[line[..colon]] = line[(colon + 2)..];
            }
        }

        return new HaproxyInfo(
            fields.GetValueOrDefault("Name", ""),
            fields.GetValueOrDefault("Version", ""),
            Int(fields.GetValueOrDefault("Pid", "0")),
            TimeSpan.FromSeconds(Int(fields.GetValueOrDefault("Uptime_sec", "0"))),
            fields);
    }

    // RFC 4180 fields: quoted fields may hold commas and doubled quotes ("Down, ""maint"" mode").
    internal static List<string> ParseCsvLine(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }

    internal static int Int(ReadOnlySpan<char> text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : 0;
}

/// <summary>
/// The rows of <c>show servers state</c> (format version 1), cut at their spaces with no string per field.
/// <paramref name="backends"/> and <paramref name="servers"/>, when given, give a row's backend and server names without
/// a new string (null: the row is not wanted): a reconcile reads every server of every backend, 80,000 rows at 10,000
/// backends. Without them every row is handed over, its names made.
/// </summary>
internal sealed class ServersStateLines(string endpoint, string command, Action<ServerStateRow> row, RowNames? backends = null, RowServerNames? servers = null)
    : IAnswerLines
{
    private bool _versioned;
    private string? _address; // the last row's: servers often share a host, and its string is made once

    /// <summary>The first row's backend id (<c>be_id</c>), or <see langword="null"/> before a row was read.</summary>
    public int? FirstBackendId { get; private set; }

    public void Take(ReadOnlySpan<char> line)
    {
        if (!_versioned)
        {
            _versioned = line.Trim() is "1" ? true : throw Version(line.ToString());
            return;
        }

        if (line[0] == '#')
        {
            return;
        }

        // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight … (Split puts
        // the rest of a longer row into the last range)
        Span<Range> f = stackalloc Range[20];
        int count = line.Split(f, ' ');
        if (count < 9)
        {
            throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, endpoint, command, $"short row '{line}'");
        }

        FirstBackendId ??= RuntimeApiParsers.Int(line[f[0]]);

        if ((backends is null ? line[f[1]].ToString() : backends(line[f[1]])) is not { } backend
            || (servers is null ? line[f[3]].ToString() : servers(backend, line[f[3]])) is not { } server)
        {
            return;
        }

        ReadOnlySpan<char> address = line[f[4]];
        if (_address is null || !address.SequenceEqual(_address))
        {
            _address = address.ToString();
        }

        // srv_port, the 19th field (2.x)
        int? port = count > 18 && int.TryParse(line[f[18]], NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p > 0 ? p : null;
        row(new ServerStateRow(backend, server, _address, (ServerOperationalState)RuntimeApiParsers.Int(line[f[5]]),
            (ServerAdminFlags)RuntimeApiParsers.Int(line[f[6]]), RuntimeApiParsers.Int(line[f[7]]), RuntimeApiParsers.Int(line[f[8]]), port));
    }

    public void End()
    {
        if (!_versioned)
        {
            throw Version("");
        }
    }

    private HaproxyControlException Version(string first) =>
        new(HaproxyErrorKind.UnexpectedAnswer, endpoint, command, $"expected format version 1, got '{first}'");
}
