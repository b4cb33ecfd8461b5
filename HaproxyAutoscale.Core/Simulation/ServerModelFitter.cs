using System.Globalization;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Simulation;

/// <summary>
/// Fits a <see cref="ServerModel"/> from a HAProxy request log: feed every line (<see cref="AddLine"/>) or parsed
/// record (<see cref="Add"/>), then call <see cref="Fit"/>. Memory is constant per backend, whatever the log's length.
/// </summary>
/// <remarks>
/// <para>The fit needs HTTP lines (<c>option httplog</c> or <c>httpslog</c>): the server response time <c>Tr</c> and
/// the <c>srv_conn</c> counter. HAProxy 2.x logs <c>srv_conn</c> once the request has left its server, so a request's
/// concurrency c, itself included, is taken as <c>srv_conn + 1</c>. Per backend the fit takes:</para>
/// <list type="bullet">
/// <item>the service time: the distribution of <c>Tr</c> over requests alone on their server (<c>srv_conn</c> 0); with
/// fewer than 100 of those, over the lowest <c>srv_conn</c> values that give 100;</item>
/// <item>the workers k: the mean <c>Tr</c> per concurrency c (those with 20 requests or more) fitted by least squares
/// to <c>mean service × max(1, c / k)</c>. When <c>Tr</c> does not grow significantly with c, k is the largest c
/// logged (at most <c>maxConn</c>), since the log shows no limit below it;</item>
/// <item><c>maxConn</c>: when requests waited in a queue (<c>Tw</c> &gt; 0), the largest c that at least 5 % of them
/// logged (HAProxy's <c>maxconn</c> caps it; a rare higher value is a queued request that took the freed place before
/// the line was written);</item>
/// <item>the cold start, which no log shows: the values given to the constructor.</item>
/// </list>
/// <para>Lines without a server (<c>&lt;NOSRV&gt;</c>) or without a response (<c>Tr</c> = -1) are not used. The fit
/// assumes the servers of a backend are alike and every request draws from the same service time.</para>
/// <para>An instance is not thread-safe.</para>
/// </remarks>
internal sealed class ServerModelFitter
{
    private readonly HaproxyLogParser _parser = new();
    private readonly Dictionary<string, BackendLogTally> _backends = new(StringComparer.Ordinal);
    private readonly double _coldStartMs;
    private readonly double _idleToColdS;
    private BackendLogTally?[] _byPair = new BackendLogTally?[64];
    private BackendLogTally? _last;

    /// <summary>Creates a fitter whose models get the cold start given here (a log cannot show it).</summary>
    /// <param name="coldStartMs">Extra milliseconds of a cold server's first request, e.g. the warm-up time. The default is 0.</param>
    /// <param name="idleToColdS">Seconds without a request after which a server is cold again. The default is 300.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative or not finite.</exception>
    public ServerModelFitter(double coldStartMs = 0, double idleToColdS = 300)
    {
        if (!double.IsFinite(coldStartMs) || coldStartMs < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(coldStartMs), coldStartMs, "The cold start must be 0 or more milliseconds.");
        }

        if (!double.IsFinite(idleToColdS) || idleToColdS < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(idleToColdS), idleToColdS, "The idle time must be 0 or more seconds.");
        }

        (_coldStartMs, _idleToColdS) = (coldStartMs, idleToColdS);
    }

    /// <summary>Lines given to <see cref="AddLine"/>.</summary>
    public long Lines { get; private set; }

    /// <summary>Request log lines among them, plus the records given to <see cref="Add"/>.</summary>
    public long Requests { get; private set; }

    /// <summary>Parses one log line (UTF-8, with or without its newline) and adds it when it is a request log line.</summary>
    public void AddLine(ReadOnlySpan<byte> line)
    {
        Lines++;
        if (!_parser.TryParse(line, out RequestRecord record))
        {
            return;
        }

        Requests++;
        int pair = _parser.LastPairId;
        if ((uint)pair < (uint)_byPair.Length && _byPair[pair] is { } known)
        {
            known.Add(record);
            return;
        }

        BackendLogTally fit = Find(record.Backend);
        if (pair >= 0)
        {
            if (pair >= _byPair.Length)
            {
                Array.Resize(ref _byPair, Math.Max(pair + 1, _byPair.Length * 2));
            }

            _byPair[pair] = fit;
        }

        fit.Add(record);
    }

    /// <summary>Adds a request already parsed (by a <see cref="HaproxyLogParser"/>).</summary>
    public void Add(in RequestRecord record)
    {
        ArgumentNullException.ThrowIfNull(record.Backend, nameof(record));
        Requests++;
        Find(record.Backend).Add(record);
    }

    /// <summary>
    /// Fits every backend seen so far. Backends that cannot be fitted are left out of the model, each with an error
    /// that says what the log lacks and which haproxy.cfg option provides it; a backend none of whose requests reached
    /// a server (such as a frontend's <c>&lt;BADREQ&gt;</c> lines) is left out with a note.
    /// </summary>
    public ServerModelFitResult Fit()
    {
        var errors = new List<string>();
        var notes = new List<string>();
        var model = new ServerModel();
        if (_backends.Count == 0)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"no HAProxy request log line among the {Lines} lines read; the fit needs lines written with 'option httplog' in haproxy.cfg"));
            return new ServerModelFitResult(model, errors, notes);
        }

        foreach (BackendLogTally backend in _backends.Values.OrderBy(b => b.Backend, StringComparer.Ordinal))
        {
            if (BackendModelFit.Fit(backend, _coldStartMs, _idleToColdS, errors, notes) is { } fitted)
            {
                model.Backends.Add(fitted);
            }
        }

        return new ServerModelFitResult(model, errors, notes);
    }

    private BackendLogTally Find(string backend)
    {
        if (_last is not null && ReferenceEquals(_last.Backend, backend))
        {
            return _last;
        }

        if (!_backends.TryGetValue(backend, out BackendLogTally? fit))
        {
            fit = new BackendLogTally(backend);
            _backends.Add(backend, fit);
        }

        return _last = fit;
    }
}

/// <summary>What <see cref="ServerModelFitter.Fit"/> found: the model of the backends it could fit, errors for the others, and notes.</summary>
internal sealed class ServerModelFitResult
{
    internal ServerModelFitResult(ServerModel model, IReadOnlyList<string> errors, IReadOnlyList<string> notes) =>
        (Model, Errors, Notes) = (model, errors, notes);

    /// <summary>The backends that could be fitted, by name.</summary>
    public ServerModel Model { get; }

    /// <summary>Why a backend (or the whole log) could not be fitted, one sentence each, naming the backend and the haproxy.cfg option that would help.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>Assumptions the fit had to make, such as a backend that never saturated in the log.</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>Whether every backend in the log was fitted.</summary>
    public bool Succeeded => Errors.Count == 0;
}
