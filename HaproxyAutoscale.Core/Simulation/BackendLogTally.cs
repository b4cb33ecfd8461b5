using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// What the log says about one backend, aggregated as lines arrive in constant memory: per concurrency the count and
/// sum of <c>Tr</c>, and a latency histogram for each low concurrency (allocated when seen).
/// <see cref="BackendModelFit"/> turns it into a <see cref="BackendModel"/>.
/// </summary>
/// <remarks>
/// HAProxy 2.x logs <c>srv_conn</c> after the request released its server (a request alone on its server logs 0, and
/// with <c>maxconn 4</c> the largest value logged is 3): a request's concurrency, itself included, is
/// <c>srv_conn + 1</c>.
/// </remarks>
internal sealed class BackendLogTally
{
    /// <summary>The service time is taken from requests with a concurrency below this (one histogram per value).</summary>
    internal const int LowConcurrencyLimit = 256;

    /// <summary>Concurrencies above this are counted as this.</summary>
    internal const int MaxTrackedConcurrency = 1 << 16;

    private readonly LatencyHistogram?[] _lowHistograms = new LatencyHistogram?[LowConcurrencyLimit];
    private readonly int[] _lowMax = new int[LowConcurrencyLimit];
    private long[] _counts = new long[64];
    private long[] _sums = new long[64];
    private long[] _queuedCounts = new long[64];
    private long _queuedLines;
    private int _maxTrConcurrency;

    public BackendLogTally(string backend) => Backend = backend;

    public string Backend { get; }

    public long TcpLines { get; private set; }

    public long HttpLines { get; private set; }

    /// <summary>Lines that reached a server (not <c>&lt;NOSRV&gt;</c>).</summary>
    public long ServerLines { get; private set; }

    /// <summary>HTTP lines that reached a server.</summary>
    public long HttpServerLines { get; private set; }

    /// <summary>HTTP lines with a server and a response time (<c>Tr</c> ≥ 0): the lines the fit uses.</summary>
    public long TrLines { get; private set; }

    /// <summary>The largest concurrency (<c>srv_conn + 1</c>) on any line that reached a server.</summary>
    public int MaxConcurrency { get; private set; }

    /// <summary>Whether a line that reached a server waited in a queue (<c>Tw</c> &gt; 0).</summary>
    public bool Queued => _queuedLines > 0;

    /// <summary>Lines that reached a server and waited in a queue (<c>Tw</c> &gt; 0).</summary>
    public long QueuedLines => _queuedLines;

    /// <summary>Per concurrency (<c>srv_conn + 1</c>), the queued lines that logged it; longer than the largest seen.</summary>
    public ReadOnlySpan<long> QueuedCounts => _queuedCounts;

    /// <summary>Per concurrency, the lines with a <c>Tr</c>; valid up to <see cref="MaxTrConcurrency"/>.</summary>
    public ReadOnlySpan<long> TrCounts => _counts;

    /// <summary>Per concurrency, the sum of their <c>Tr</c> in milliseconds.</summary>
    public ReadOnlySpan<long> TrSums => _sums;

    /// <summary>The largest concurrency on a line with a <c>Tr</c>.</summary>
    public int MaxTrConcurrency => _maxTrConcurrency;

    /// <summary>The <c>Tr</c> histogram of a concurrency below <see cref="LowConcurrencyLimit"/>, if any line had it.</summary>
    public LatencyHistogram? LowHistogram(int concurrency) => _lowHistograms[concurrency];

    /// <summary>The largest <c>Tr</c> at a concurrency below <see cref="LowConcurrencyLimit"/>.</summary>
    public int LowMax(int concurrency) => _lowMax[concurrency];

    public void Add(in RequestRecord record)
    {
        if (record.Kind == RequestKind.Tcp)
        {
            TcpLines++;
        }
        else
        {
            HttpLines++;
        }

        if (record.HasNoServer)
        {
            return;
        }

        ServerLines++;
        if (record.Kind == RequestKind.Http)
        {
            HttpServerLines++;
        }

        int concurrency = Math.Clamp(record.ServerConnections, 0, MaxTrackedConcurrency - 1) + 1;
        if (concurrency > MaxConcurrency)
        {
            MaxConcurrency = concurrency;
        }

        if (record.QueueTime > 0)
        {
            _queuedLines++;
            if (concurrency >= _queuedCounts.Length)
            {
                Array.Resize(ref _queuedCounts, Math.Min(MaxTrackedConcurrency + 1, Math.Max(concurrency + 1, _queuedCounts.Length * 2)));
            }

            _queuedCounts[concurrency]++;
        }

        int tr = record.ResponseTime;
        if (record.Kind != RequestKind.Http || tr < 0)
        {
            return;
        }

        TrLines++;
        if (concurrency >= _counts.Length)
        {
            int length = Math.Min(MaxTrackedConcurrency + 1, Math.Max(concurrency + 1, _counts.Length * 2));
            Array.Resize(ref _counts, length);
            Array.Resize(ref _sums, length);
        }

        _counts[concurrency]++;
        _sums[concurrency] += tr;
        if (concurrency > _maxTrConcurrency)
        {
            _maxTrConcurrency = concurrency;
        }

        if (concurrency < LowConcurrencyLimit)
        {
            (_lowHistograms[concurrency] ??= new LatencyHistogram()).Add(tr);
            if (tr > _lowMax[concurrency])
            {
                _lowMax[concurrency] = tr;
            }
        }
    }
}
