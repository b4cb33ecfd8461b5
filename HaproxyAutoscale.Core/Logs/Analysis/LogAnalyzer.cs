namespace HaproxyAutoscale.Logs.Analysis;

/// <summary>
/// Accumulates per backend/server statistics of log lines, as <c>haproxy-autoscale analyze</c> prints them.
/// One instance per thread; partial results are combined with <see cref="Merge"/>.
/// </summary>
internal sealed class LogAnalyzer
{
    private readonly HaproxyLogParser _parser;
    // One row per backend/server pair, by name; pairs the parser could not keep (more distinct ones than its
    // capacity) arrive with fresh strings and are matched here too.
    private readonly Dictionary<(string Backend, string Server), ServerStatistics> _byValue = [];
    // The same rows by the parser's pair id: no hashing per line.
    private readonly PairIdMap<ServerStatistics> _byPairId = new();

    public LogAnalyzer()
        : this(NameTable<string>.DefaultCapacity)
    {
    }

    internal LogAnalyzer(int nameCapacity) => _parser = new HaproxyLogParser(nameCapacity);

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
        if (!_byPairId.TryGet(_parser.LastPairId, out ServerStatistics? stats))
        {
            stats = Lookup(record.Backend, record.Server);
            _byPairId.Set(_parser.LastPairId, stats);
        }

        stats!.Add(in record);
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
        if (!_byValue.TryGetValue((backend, server), out ServerStatistics? stats))
        {
            stats = new ServerStatistics(backend, server);
            _byValue.Add((backend, server), stats);
        }

        return stats;
    }
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
