using System.IO.Abstractions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>
/// Reading the logs: each line to its backend's decider. A reload that re-binds the log source binds the new one
/// first, then the old one stops; their lines count together.
/// </summary>
public sealed partial class Autoscaler
{
    private readonly object _sourceLock = new(); // guards the fields below and the swap of _source
    private readonly List<ILogSource> _sources = []; // the sources whose counters are live (the old one until it stopped)
    private LogSourceCounters? _retired; // what the sources a reload replaced counted, once re-bound
    private CancellationTokenSource? _stopReading;
    private bool _reading; // the reading loop runs: it retires a replaced source itself

    // Reads the log source until stopped; a reload that re-binds it stops this source's reading and the loop goes on
    // with the new one (bound before the old one stopped, so the kernel holds what arrives meanwhile).
    private async Task ReadLogsAsync(CancellationToken cancellationToken)
    {
        LogLineRouter router = CreateLineRouter();
        LogLineHandler onLine = line =>
        {
            if (!router.Route(line) && !_wakes.TryTake(line, cancellationToken)) // the Lua hold's wake lines (scale to zero)
            {
                Interlocked.Increment(ref _unparsed);
            }
        };
        while (true)
        {
            (ILogSource source, CancellationToken reading) = StartReading(cancellationToken);
            try
            {
                await (source is IBatchingLogSource batching
                    ? batching.RunAsync(onLine, router.Flush, reading)
                    : source.RunAsync(line => { onLine(line); router.Flush(); }, reading)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (reading.IsCancellationRequested)
            {
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Log.SourceFailed(_logger, source.Address, $"{e.GetType().Name}: {e.Message}");
                _metrics.ExtensionFailures.Add(1, AutoscaleMetrics.ExtensionTags("", "source"));
                StopReading();
                throw;
            }

            router.Flush(); // what the source's last read left held (its delivering threads have ended)
            if (cancellationToken.IsCancellationRequested || !await RetireAsync(source).ConfigureAwait(false))
            {
                StopReading();
                return; // stopped, or a finite source ended
            }
        }
    }

    /// <summary>The log reader's path for lines (a benchmark drives it too).</summary>
    internal LogLineRouter CreateLineRouter() => new(new HaproxyLogParser(ParserCapacity(_options)), _backends, _time);

    // Room in the parser's name tables for every configured backend/server pair, <NOSRV> and frontends besides: past
    // its capacity a pair is parsed by its two names each time (the capacity bounds what junk lines can make it keep).
    private static int ParserCapacity(AutoscaleOptions options) =>
        Math.Max(NameTable<string>.DefaultCapacity, 2 * options.Backends.Sum(b => b.Servers.Count + 1));

    // The source to read now, and the token that stops reading it (the run's, or a reload's re-bind).
    private (ILogSource Source, CancellationToken Token) StartReading(CancellationToken cancellationToken)
    {
        lock (_sourceLock)
        {
            _stopReading?.Dispose();
            _stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            _reading = true;
            return (_source, _stopReading.Token);
        }
    }

    private void StopReading()
    {
        lock (_sourceLock)
        {
            _reading = false;
        }
    }

    // A source stopped being read: false when it is still the current one (a finite source ended); otherwise its
    // counters join the retired ones and it is disposed if the autoscaler made it.
    private async Task<bool> RetireAsync(ILogSource source)
    {
        bool owned;
        lock (_sourceLock)
        {
            if (ReferenceEquals(source, _source))
            {
                return false;
            }

            _retired = LogSourceCounters.Sum([.. _retired is null ? [] : new[] { _retired }, source.Counters]);
            _sources.Remove(source);
            owned = _owned.Remove(source);
        }

        if (owned)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }

        return true;
    }

    private async Task RebindAsync(ILogSource source)
    {
        ILogSource old;
        bool reading;
        lock (_sourceLock)
        {
            if (_sources.Count == 0)
            {
                _sources.Add(_source);
            }

            old = _source;
            _source = source;
            _sources.Add(source);
            _owned.Add(source);
            _stopReading?.Cancel(); // the reading loop retires the old source and goes on with the new one
            reading = _reading;
        }

        if (!reading)
        {
            await RetireAsync(old).ConfigureAwait(false); // nothing reads it
        }
    }

    // logs.allowFrom changed, the source stays: the built-in sources take the new list at once.
    private bool ReplaceAllowlist(AutoscaleOptions engine)
    {
        var networks = AutoscalerBuilder.DatagramOptions(engine).AllowFrom;
        switch (_source)
        {
            case DatagramLogSource datagrams:
                datagrams.ReplaceAllowlist(networks);
                return true;
            case TcpLogSource tcp:
                tcp.ReplaceAllowlist(networks);
                return true;
            default:
                return false;
        }
    }

    private ILogSource CreateSource(AutoscaleOptions engine)
    {
        ILogSource source = LogSources.Create(engine.Logs.Source, new FileSystem(), _time, datagramOptions: AutoscalerBuilder.DatagramOptions(engine));
        if (source is DatagramLogSource datagrams)
        {
            datagrams.Logger = _logger;
        }
        else if (source is TcpLogSource tcp)
        {
            tcp.Logger = _logger;
        }

        return source;
    }

    // The live counters object while the source was never re-bound; after a re-bind, a sum taken now (read it again).
    private LogSourceCounters SourceCounters()
    {
        lock (_sourceLock)
        {
            return _retired is null && _sources.Count == 0 ? _source.Counters : LogSourceCounters.Sum([.. _retired is null ? [] : new[] { _retired }, .. _sources.Select(s => s.Counters)]);
        }
    }
}
