namespace HaproxyAutoscale.Logs;

/// <summary>Reads lines from a stream to its end: standard input (<c>-</c>), a pipe, or a whole file.</summary>
internal sealed class StreamLogSource : ILogSource, IBatchingLogSource
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly int _maxLineLength;

    public StreamLogSource(Stream stream, string address, bool ownsStream, int maxLineLength)
    {
        _stream = stream;
        Address = address;
        _ownsStream = ownsStream;
        _maxLineLength = maxLineLength;
    }

    public string Address { get; }

    public LogSourceCounters Counters { get; } = new();

    public Task RunAsync(LogLineHandler onLine, CancellationToken cancellationToken) => RunAsync(onLine, static () => { }, cancellationToken);

    public async Task RunAsync(LogLineHandler onLine, Action onReadEnd, CancellationToken cancellationToken)
    {
        var splitter = new LineSplitter(_maxLineLength, Counters);
        while (true)
        {
            int read = await _stream.ReadAsync(splitter.GetFreeSpace(), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                splitter.Flush(onLine);
                onReadEnd();
                return;
            }

            splitter.Commit(read, onLine);
            onReadEnd();
        }
    }

    public ValueTask DisposeAsync() => _ownsStream ? _stream.DisposeAsync() : ValueTask.CompletedTask;
}
