namespace HaproxyAutoscale.Scaling;

/// <summary>
/// The evaluation loop: every <see cref="Configuration.AutoscaleOptions.EvaluationInterval"/>, one pass over every
/// backend (decide, then act), timed for the <c>evaluation_pass_seconds</c> histogram.
/// </summary>
public sealed partial class Autoscaler
{
    /// <summary>Backends one worker of the pass evaluates at a time: a pass of two chunks or more is shared across the cores.</summary>
    internal const int PassChunk = 512;

    private readonly ParallelOptions _passParallelism = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    private async Task EvaluateLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.EvaluationInterval, _time, cancellationToken).ConfigureAwait(false);
                if (_leader is not null)
                {
                    await _leader.UpdateAsync(TakeOverAsync, cancellationToken).ConfigureAwait(false);
                }

                long start = _time.GetTimestamp();
                EvaluatePass(cancellationToken);
                _metrics.EvaluationPass.Record(_time.GetElapsedTime(start).TotalSeconds);
                FlushHistory();
                _heartbeat.Beat(_time.GetUtcNow());
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One evaluation of every backend (the loop's pass; the benchmarks time it alone). Backends are independent, each
    /// evaluated under its own lock, so a large pass is shared out in chunks across the cores; a small one runs on the
    /// loop's thread alone, in configuration order.
    /// </summary>
    internal void EvaluatePass(CancellationToken cancellationToken)
    {
        lock (_swap) // a reload's swap waits for the pass: no action starts on a backend it removed
        {
            IReadOnlyList<ScaledBackend> backends = _backends.Values;
            int chunks = (backends.Count + PassChunk - 1) / PassChunk;
            if (chunks < 2 || Environment.ProcessorCount < 2)
            {
                EvaluateChunk(backends, 0, cancellationToken);
            }
            else
            {
                Parallel.For(0, chunks, _passParallelism, chunk => EvaluateChunk(backends, chunk * PassChunk, cancellationToken));
            }
        }

        _keepWarm.SummarizeStops();
    }

    private void EvaluateChunk(IReadOnlyList<ScaledBackend> backends, int from, CancellationToken cancellationToken)
    {
        int to = Math.Min(backends.Count, from + PassChunk);
        for (int i = from; i < to; i++) // indexed: no enumerator per pass
        {
            // The next backends' state asked for ahead, one level a step (each read only once the step before
            // brought it): at thousands of backends a pass otherwise waits for each object in turn.
            if (i + 3 < to)
            {
                CacheHints.Prefetch(backends[i + 3]);
            }

            if (i + 2 < to)
            {
                CacheHints.Prefetch(backends[i + 2].Decider, lines: 4);
            }

            if (i + 1 < to)
            {
                backends[i + 1].Decider.PrefetchForDecide();
            }

            ScaledBackend backend = backends[i];
            _evaluation.Evaluate(backend, _actuator, cancellationToken);
            _wakes.RetryPending(backend, cancellationToken);
            if (_leader is not { IsActing: false })
            {
                _keepWarm.StopIdle(backend, cancellationToken); // a standby starts and stops nothing
            }
        }
    }
}
