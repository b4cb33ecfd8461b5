using System.Globalization;

namespace HaproxyAutoscale.Control;

/// <summary>
/// Reads a <c>show stat</c> CSV answer line by line: its header line (<c># pxname,svname,…</c>: the columns' positions
/// vary by version) and then each row, cut at its commas as spans (only the columns used become values).
/// </summary>
internal abstract class StatAnswerLines(string endpoint) : IAnswerLines
{
    private Range[]? _ranges;

    public void Take(ReadOnlySpan<char> line)
    {
        if (_ranges is null)
        {
            _ranges = Header(line);
            return;
        }

        var row = new StatRow(line, _ranges);
        if (row.HasFields)
        {
            Row(row);
        }
    }

    // Apart from Take: its closure would be made for every row.
    private Range[] Header(ReadOnlySpan<char> line)
    {
        if (!line.StartsWith("# "))
        {
            throw NoHeader();
        }

        List<string> header = RuntimeApiParsers.ParseCsvLine(line[2..].ToString());
        int last = Columns(name => header.IndexOf(name) is int i and >= 0 ? i
            : throw new HaproxyControlException(HaproxyErrorKind.UnexpectedAnswer, endpoint, "show stat", $"no '{name}' column"));
        return new Range[last + 1];
    }

    public void End()
    {
        if (_ranges is null)
        {
            throw NoHeader();
        }
    }

    /// <summary>Finds the columns used by their header names; returns the last one's position.</summary>
    protected abstract int Columns(Func<string, int> column);

    /// <summary>One row with at least as many fields as the last column used.</summary>
    protected abstract void Row(StatRow row);

    protected static long Long(ReadOnlySpan<char> text) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : 0;

    protected static int Int(ReadOnlySpan<char> text) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) ? value : 0;

    private HaproxyControlException NoHeader() => new(HaproxyErrorKind.UnexpectedAnswer, endpoint, "show stat", "no CSV header line");
}

/// <summary>
/// The backend rows of <c>show stat -1 2 -1</c>. <paramref name="names"/>, when given, gives a row's backend name
/// without a new string (null: the row is not wanted): read every counter interval, 10,000 rows at 10,000 backends.
/// </summary>
internal sealed class BackendStatLines(string endpoint, BackendRow row, RowNames? names = null) : StatAnswerLines(endpoint)
{
    private int _px, _sv, _stot, _reqTot, _qcur, _scur, _econ, _eresp, _h5xx, _qtime, _rtime;

    protected override int Columns(Func<string, int> column)
    {
        (_px, _sv, _stot, _reqTot, _qcur, _scur) = (column("pxname"), column("svname"), column("stot"), column("req_tot"), column("qcur"), column("scur"));
        (_econ, _eresp, _h5xx, _qtime, _rtime) = (column("econ"), column("eresp"), column("hrsp_5xx"), column("qtime"), column("rtime"));
        return new[] { _px, _sv, _stot, _reqTot, _qcur, _scur, _econ, _eresp, _h5xx, _qtime, _rtime }.Max();
    }

    protected override void Row(StatRow f)
    {
        if (!f[_sv].SequenceEqual("BACKEND") || (names is null ? f[_px].ToString() : names(f[_px])) is not { } backend)
        {
            return;
        }

        // req_tot is empty in TCP mode: there a log line stands for a session.
        long requests = f[_reqTot].Length > 0 ? Long(f[_reqTot]) : Long(f[_stot]);
        row(backend, new BackendCounters(requests, Int(f[_qcur]), Int(f[_scur]), Long(f[_econ]), Long(f[_eresp]), Long(f[_h5xx]), Int(f[_qtime]), Int(f[_rtime])));
    }
}

/// <summary>
/// The server rows of <c>show stat -1 4 -1</c> (or of one backend's). <paramref name="names"/>, when given, gives a
/// row's backend name without a new string (null: the row is not wanted, and nothing is made for it).
/// </summary>
internal sealed class ServerStatLines(string endpoint, Action<ServerStat> row, RowNames? names = null) : StatAnswerLines(endpoint)
{
    private int _px, _sv, _status, _weight, _scur, _qcur, _rtime, _act, _bck, _check;

    /// <summary>Whether a wanted backend's own row (<c>BACKEND</c>, when the command asked for it) was read.</summary>
    public bool BackendRowRead { get; private set; }

    protected override int Columns(Func<string, int> column)
    {
        (_px, _sv, _status, _weight, _scur) = (column("pxname"), column("svname"), column("status"), column("weight"), column("scur"));
        (_qcur, _rtime, _act, _bck, _check) = (column("qcur"), column("rtime"), column("act"), column("bck"), column("check_status"));
        return new[] { _px, _sv, _status, _weight, _scur, _qcur, _rtime, _act, _bck, _check }.Max();
    }

    protected override void Row(StatRow f)
    {
        if (f[_sv].SequenceEqual("BACKEND"))
        {
            BackendRowRead |= names is null || names(f[_px]) is not null;
        }
        else if (!f[_sv].SequenceEqual("FRONTEND") && (names is null ? f[_px].ToString() : names(f[_px])) is { } backend)
        {
            row(new ServerStat(backend, f[_sv].ToString(), f[_status].ToString(), Int(f[_weight]), Int(f[_scur]), Int(f[_qcur]), Int(f[_rtime]),
                Int(f[_act]) > 0, Int(f[_bck]) > 0, f[_check].ToString()));
        }
    }
}

/// <summary>
/// The first fields of a CSV line, cut at its commas; a line with a quoted field (a comma may be inside) is parsed
/// whole. <see cref="HasFields"/> is false when the line has fewer fields than ranges.
/// </summary>
internal readonly ref struct StatRow
{
    private readonly ReadOnlySpan<char> _line;
    private readonly Span<Range> _ranges;
    private readonly List<string>? _parsed;

    public StatRow(ReadOnlySpan<char> line, Span<Range> ranges)
    {
        _line = line;
        _ranges = ranges;
        if (line.Contains('"'))
        {
            _parsed = RuntimeApiParsers.ParseCsvLine(line.ToString());
            HasFields = _parsed.Count >= ranges.Length;
            return;
        }

        int start = 0;
        for (int i = 0; i < ranges.Length; i++)
        {
            int comma = line[start..].IndexOf(',');
            if (comma < 0 && i < ranges.Length - 1)
            {
                return; // too few fields
            }

            int end = comma < 0 ? line.Length : start + comma;
            ranges[i] = start..end;
            start = end + 1;
        }

        HasFields = true;
    }

    public bool HasFields { get; }

    public ReadOnlySpan<char> this[int index] => _parsed is null ? _line[_ranges[index]] : _parsed[index];
}
