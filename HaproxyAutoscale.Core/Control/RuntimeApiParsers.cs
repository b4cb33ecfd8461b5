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
public sealed record BackendStat(string Backend, long Requests, int CurrentQueue, int CurrentSessions, long ConnectionErrors, long ResponseErrors, long Responses5xx, int QueueTimeMs, int ResponseTimeMs);

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
    public ServerAdminState AdminState =>
        (AdminFlags & (ServerAdminFlags.ForcedMaintenance | ServerAdminFlags.InheritedMaintenance | ServerAdminFlags.ResolutionMaintenance)) != 0 ? ServerAdminState.Maint
        : (AdminFlags & (ServerAdminFlags.ForcedDrain | ServerAdminFlags.InheritedDrain)) != 0 ? ServerAdminState.Drain
        : ServerAdminState.Ready;
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

/// <summary>Parsers of Runtime API answers.</summary>
internal static partial class RuntimeApiParsers
{
    public static IReadOnlyList<ServerStat> ParseShowStat(string answer, string endpoint)
    {
        (int body, Func<string, int> column) = StatCsv(answer, endpoint);
        int px = column("pxname"), sv = column("svname"), status = column("status"), weight = column("weight"), scur = column("scur"),
            qcur = column("qcur"), rtime = column("rtime"), act = column("act"), bck = column("bck"), check = column("check_status");
        Span<Range> ranges = new Range[new[] { px, sv, status, weight, scur, qcur, rtime, act, bck, check }.Max() + 1];
        var rows = new List<ServerStat>();
        foreach (ReadOnlySpan<char> line in new Lines(answer, body))
        {
            var f = new StatRow(line, ranges);
            if (!f.HasFields || f[sv] is "FRONTEND" or "BACKEND")
            {
                continue;
            }

            rows.Add(new ServerStat(f[px].ToString(), f[sv].ToString(), f[status].ToString(), Int(f[weight]), Int(f[scur]), Int(f[qcur]), Int(f[rtime]),
                Int(f[act]) > 0, Int(f[bck]) > 0, f[check].ToString()));
        }

        return rows;
    }

    // Read every counterInterval with a row per backend (10,000 backends: 10,000 rows of ~100 columns): each row is
    // cut at its commas and only the columns used become values, with no string per field.
    public static IReadOnlyList<BackendStat> ParseBackendStat(string answer, string endpoint)
    {
        (int body, Func<string, int> column) = StatCsv(answer, endpoint);
        int px = column("pxname"), sv = column("svname"), stot = column("stot"), reqTot = column("req_tot"), qcur = column("qcur"), scur = column("scur"),
            econ = column("econ"), eresp = column("eresp"), h5xx = column("hrsp_5xx"), qtime = column("qtime"), rtime = column("rtime");
        int last = new[] { px, sv, stot, reqTot, qcur, scur, econ, eresp, h5xx, qtime, rtime }.Max();
        Span<Range> ranges = new Range[last + 1];
        var rows = new List<BackendStat>();
        foreach (ReadOnlySpan<char> line in new Lines(answer, body))
        {
            var f = new StatRow(line, ranges);
            if (!f.HasFields || !f[sv].SequenceEqual("BACKEND"))
            {
                continue;
            }

            // req_tot is empty in TCP mode: there a log line stands for a session.
            long requests = f[reqTot].Length > 0 ? Long(f[reqTot]) : Long(f[stot]);
            rows.Add(new BackendStat(f[px].ToString(), requests, Int(f[qcur]), Int(f[scur]), Long(f[econ]), Long(f[eresp]), Long(f[h5xx]), Int(f[qtime]), Int(f[rtime])));
        }

        return rows;
    }

    // Where the rows of a "show stat" answer start (after its header line), and a lookup of its columns by header
    // name (their positions vary by version).
    private static (int Body, Func<string, int> Column) StatCsv(string answer, string endpoint)
    {
        var lines = new Lines(answer, 0);
        if (!lines.MoveNext() || !lines.Current.StartsWith("# ", StringComparison.Ordinal))
        {
            throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, endpoint, "show stat", "no CSV header line");
        }

        List<string> header = ParseCsvLine(lines.Current[2..].ToString());
        int body = answer.IndexOf('\n', answer.IndexOf('#', StringComparison.Ordinal));
        return (body < 0 ? answer.Length : body + 1, name => header.IndexOf(name) is int i and >= 0 ? i
            : throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, endpoint, "show stat", $"no '{name}' column"));
    }

    public static IReadOnlyList<ServerState> ParseServersState(string answer, string endpoint, string command)
    {
        string[] lines = answer.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0].Trim() != "1")
        {
            throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, endpoint, command, $"expected format version 1, got '{(lines.Length > 0 ? lines[0] : "")}'");
        }

        var rows = new List<ServerState>(lines.Length);
        Span<Range> f = stackalloc Range[20]; // Split puts the rest of a longer row into the last one
        foreach (string line in lines.AsSpan(1))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight … (the first
            // 19 fields are cut out: a reconcile reads every server of every backend, with no string per field)
            ReadOnlySpan<char> row = line;
            int count = row.Split(f, ' ');
            if (count < 9)
            {
                throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, endpoint, command, $"short row '{line}'");
            }

            rows.Add(new ServerState(row[f[1]].ToString(), row[f[3]].ToString(), row[f[4]].ToString(), (ServerOperationalState)Int(row[f[5]]), (ServerAdminFlags)Int(row[f[6]]), Int(row[f[7]]), Int(row[f[8]]))
            {
                // srv_port, the 19th field (2.x)
                Port = count > 18 && int.TryParse(row[f[18]], NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port > 0 ? port : null,
            });
        }

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

    private static long Long(ReadOnlySpan<char> text) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;

    private static int Int(ReadOnlySpan<char> text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : 0;
}
