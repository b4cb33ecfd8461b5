using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Cli.Analysis;

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
    // Reads most lines with a fraction of the parser's work; any line it is not sure about goes to the parser.
    private readonly LeanLineScanner<ServerStatistics>? _lean;

    public LogAnalyzer()
        : this(NameTable<string>.DefaultCapacity)
    {
    }

    /// <param name="nameCapacity">How many names and pairs the parser and the lean scanner keep.</param>
    /// <param name="leanScan">False: every line through the full parser (the reference the tests compare with).</param>
    internal LogAnalyzer(int nameCapacity, bool leanScan = true) =>
        (_parser, _lean) = (new HaproxyLogParser(nameCapacity), leanScan ? new(nameCapacity) : null);

    public long Lines { get; private set; }

    public long Parsed { get; private set; }

    public long Unparsed => Lines - Parsed;

    public IReadOnlyCollection<ServerStatistics> Servers => _byValue.Values;

    /// <summary>Counts lines that never reached <see cref="Add"/> (skipped as oversized by the reader) as unparsed.</summary>
    public void AddUnreadLines(long count) => Lines += count;

    /// <summary>
    /// Adds the lines at the start of <paramref name="text"/> that end with a newline (with <paramref name="final"/>,
    /// also an unterminated last one) and returns how many bytes they took: the same lines, with the same counts, as
    /// a <see cref="LineSplitter"/> delivering them to <see cref="Add"/> (a line longer than
    /// <see cref="LogSources.DefaultMaxLineLength"/> counts as unparsed). Lines the lean scanner takes are read in
    /// one pass, their newline searched only from their request on.
    /// </summary>
    public int AddLines(ReadOnlySpan<byte> text, bool final)
    {
        int pos = 0;
        while (pos < text.Length)
        {
            ReadOnlySpan<byte> rest = text[pos..];
            int newline;
            if (_lean is not null)
            {
                int request = _lean.TryScanUnbounded(rest, out ServerStatistics? lean, out int status, out LeanLineScanner<ServerStatistics>.Timers t);
                if (request >= 0 && (newline = NewlineFrom(rest, request)) >= 0 && newline <= LogSources.DefaultMaxLineLength)
                {
                    Lines++;
                    Parsed++;
                    lean!.AddHttp(status, queueTime: t[1], connectTime: t[2], responseTime: t[3], totalTime: t[4]);
                    pos += newline + 1;
                    continue;
                }
            }

            newline = rest.IndexOf((byte)'\n');
            if (newline < 0 && !final)
            {
                break;
            }

            ReadOnlySpan<byte> line = newline < 0 ? rest : rest[..newline];
            pos += newline < 0 ? rest.Length : newline + 1;
            if (line.Length > LogSources.DefaultMaxLineLength)
            {
                Lines++; // as LineSplitter skips it
                continue;
            }

            Add(!line.IsEmpty && line[^1] == (byte)'\r' ? line[..^1] : line);
        }

        return pos;
    }

    // The newline at or after `from`, or -1. After a request's quote it is nearly always within 32 bytes: two vector
    // compares before any call.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NewlineFrom(ReadOnlySpan<byte> text, int from)
    {
        const int Width = 32;
        if (Vector128.IsHardwareAccelerated && text.Length - from >= Width)
        {
            Vector128<byte> newline = Vector128.Create((byte)'\n');
            uint found = Vector128.Equals(Vector128.Create(text.Slice(from, 16)), newline).ExtractMostSignificantBits()
                | (Vector128.Equals(Vector128.Create(text.Slice(from + 16, 16)), newline).ExtractMostSignificantBits() << 16);
            if (found != 0)
            {
                return from + BitOperations.TrailingZeroCount(found);
            }

            from += Width;
        }

        int next = text[from..].IndexOf((byte)'\n');
        return next < 0 ? -1 : from + next;
    }

    public void Add(ReadOnlySpan<byte> line)
    {
        Lines++;
        if (_lean is not null && _lean.TryScan(line, out ServerStatistics? lean, out int status, out LeanLineScanner<ServerStatistics>.Timers t))
        {
            Parsed++;
            lean!.AddHttp(status, queueTime: t[1], connectTime: t[2], responseTime: t[3], totalTime: t[4]);
            return;
        }

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

        _lean?.AddPair(line, stats!);
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
        if (record.Kind == RequestKind.Http)
        {
            AddHttp(record.StatusCode, record.QueueTime, record.ConnectTime, record.ResponseTime, record.TotalTime);
            return;
        }

        Requests++;
        Tw.Add(record.QueueTime);
        Tc.Add(record.ConnectTime);
        Ta.Add(record.TotalTime);
    }

    public void AddHttp(int status, int queueTime, int connectTime, int responseTime, int totalTime)
    {
        Requests++;
        StatusClasses[status is >= 100 and <= 599 ? (status / 100) - 1 : 5]++;
        Tr.Add(responseTime);
        Tw.Add(queueTime);
        Tc.Add(connectTime);
        Ta.Add(totalTime);
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
