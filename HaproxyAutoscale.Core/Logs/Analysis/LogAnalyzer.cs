using System.Runtime.CompilerServices;

namespace HaproxyAutoscale.Logs.Analysis;

/// <summary>
/// Accumulates per backend/server statistics of log lines, as <c>haproxy-autoscale analyze</c> prints them.
/// One instance per thread; partial results are combined with <see cref="Merge"/>.
/// </summary>
internal sealed class LogAnalyzer
{
    private readonly NameTable _names;
    private readonly HaproxyLogParser _parser;
    // Names the table could not keep (more distinct names than its capacity) arrive as fresh strings: they are
    // matched by value here, so every backend/server pair still has exactly one row.
    private readonly Dictionary<(string Backend, string Server), ServerStatistics> _byValue = [];
    // The parser interns names, so within one analyzer a pair is identified by reference: no string hashing per line.
    private readonly Dictionary<(string Backend, string Server), ServerStatistics> _servers = new(IdentityComparer.Instance);
    private ServerStatistics? _last;

    public LogAnalyzer()
        : this(new NameTable())
    {
    }

    internal LogAnalyzer(NameTable names)
    {
        _names = names;
        _parser = new HaproxyLogParser(names);
    }

    public long Lines { get; private set; }

    public long Parsed { get; private set; }

    public long Unparsed => Lines - Parsed;

    public IReadOnlyCollection<ServerStatistics> Servers => _byValue.Values;

    /// <summary>Counts lines that never reached <see cref="Add"/> (skipped as oversized by the reader) as unparsed.</summary>
    public void AddUnreadLines(long count) => Lines += count;

    public void Add(ReadOnlySpan<byte> line)
    {
        Lines++;
        if (!_parser.TryParse(line, out RequestRecord record))
        {
            return;
        }

        Parsed++;
        ServerStatistics stats = _last is not null && ReferenceEquals(_last.Backend, record.Backend) && ReferenceEquals(_last.Server, record.Server)
            ? _last
            : Lookup(record.Backend, record.Server);
        stats.Add(in record);
        _last = stats;
    }

    public void Merge(LogAnalyzer other)
    {
        Lines += other.Lines;
        Parsed += other.Parsed;

        // Another analyzer's names are other instances: match them by value.
        foreach (ServerStatistics theirs in other._byValue.Values)
        {
            if (_byValue.TryGetValue((theirs.Backend, theirs.Server), out ServerStatistics? ours))
            {
                ours.Merge(theirs);
            }
            else
            {
                _byValue.Add((theirs.Backend, theirs.Server), theirs);
            }
        }
    }

    private ServerStatistics Lookup(string backend, string server)
    {
        if (_servers.TryGetValue((backend, server), out ServerStatistics? stats))
        {
            return stats;
        }

        if (!_byValue.TryGetValue((backend, server), out stats))
        {
            stats = new ServerStatistics(backend, server);
            _byValue.Add((backend, server), stats);
        }

        // Only interned names may key the by-reference table: fresh strings would make it grow with every line.
        if (_names.Overflowed == 0)
        {
            _servers.Add((backend, server), stats);
        }

        return stats;
    }
}

internal sealed class IdentityComparer : IEqualityComparer<(string Backend, string Server)>
{
    public static readonly IdentityComparer Instance = new();

    public bool Equals((string Backend, string Server) x, (string Backend, string Server) y) =>
        ReferenceEquals(x.Backend, y.Backend) && ReferenceEquals(x.Server, y.Server);

    public int GetHashCode((string Backend, string Server) pair) =>
        HashCode.Combine(RuntimeHelpers.GetHashCode(pair.Backend), RuntimeHelpers.GetHashCode(pair.Server));
}

/// <summary>Statistics of one backend/server pair.</summary>
internal sealed class ServerStatistics(string backend, string server)
{
    public string Backend { get; } = backend;

    public string Server { get; } = server;

    /// <summary>Every line of this pair, HTTP and TCP.</summary>
    public long Requests { get; private set; }

    /// <summary>HTTP lines by status class: 1xx to 5xx, then "other" (-1 and anything else). TCP lines have no status.</summary>
    public long[] StatusClasses { get; } = new long[6];

    public TimerStatistics Tr { get; } = new();

    public TimerStatistics Tw { get; } = new();

    public TimerStatistics Tc { get; } = new();

    public TimerStatistics Ta { get; } = new();

    public void Add(in RequestRecord record)
    {
        Requests++;
        if (record.Kind == RequestKind.Http)
        {
            int status = record.StatusCode;
            StatusClasses[status is >= 100 and <= 599 ? (status / 100) - 1 : 5]++;
            Tr.Add(record.ResponseTime);
        }

        Tw.Add(record.QueueTime);
        Tc.Add(record.ConnectTime);
        Ta.Add(record.TotalTime);
    }

    public void Merge(ServerStatistics other)
    {
        Requests += other.Requests;
        for (int i = 0; i < StatusClasses.Length; i++)
        {
            StatusClasses[i] += other.StatusClasses[i];
        }

        Tr.Merge(other.Tr);
        Tw.Merge(other.Tw);
        Tc.Merge(other.Tc);
        Ta.Merge(other.Ta);
    }
}
