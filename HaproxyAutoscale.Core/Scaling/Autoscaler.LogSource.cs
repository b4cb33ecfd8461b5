using System.IO.Abstractions;
using HaproxyAutoscale.Configuration;
using HaproxyAutoscale.Hosting;
using HaproxyAutoscale.Logs;

namespace HaproxyAutoscale.Scaling;

/// <summary>The log source a reload re-binds: the new one is bound first, the old one stops, their lines count together.</summary>
public sealed partial class Autoscaler
{
    private readonly object _sourceLock = new(); // guards the fields below and the swap of _source
    private readonly List<ILogSource> _sources = []; // the sources whose counters are live (the old one until it stopped)
    private LogSourceCounters? _retired; // what the sources a reload replaced counted, once re-bound
    private CancellationTokenSource? _stopReading;

    // The source to read now, and the token that stops reading it (the run's, or a reload's re-bind).
    private (ILogSource Source, CancellationToken Token) StartReading(CancellationToken cancellationToken)
    {
        lock (_sourceLock)
        {
            _stopReading?.Dispose();
            _stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            return (_source, _stopReading.Token);
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
        }

        if (!_running)
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
