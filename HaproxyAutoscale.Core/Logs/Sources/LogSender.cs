namespace HaproxyAutoscale.Logs;

/// <summary>What one sender (one IP address, over all its connections) has sent to a TCP log source.</summary>
/// <param name="Sender">The sender's address: <c>127.0.0.1</c>, <c>2001:db8::1</c>.</param>
/// <param name="Connections">Its connections open now.</param>
/// <param name="TotalConnections">Its connections accepted since the start.</param>
/// <param name="Lines">Messages delivered to the handler.</param>
/// <param name="Bytes">Bytes of those messages.</param>
/// <param name="Oversized">Messages skipped as longer than the maximum.</param>
/// <param name="Malformed">Connections closed because their framing broke (an octet count that is not a number).</param>
internal readonly record struct LogSenderStatistics(string Sender, int Connections, long TotalConnections, long Lines, long Bytes, long Oversized, long Malformed);

/// <summary>
/// The running counters of one sender. Lines and bytes are written only under the source's delivery lock (plain
/// increments published with volatile writes); the rest are rare and interlocked.
/// </summary>
internal sealed class LogSender(string address)
{
    private int _connections;
    private long _totalConnections;
    private long _lines;
    private long _bytes;
    private long _oversized;
    private long _malformed;

    public string Address { get; } = address;

    public void Connected()
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _totalConnections);
    }

    public void Disconnected() => Interlocked.Decrement(ref _connections);

    public void AddLine(int bytes)
    {
        Volatile.Write(ref _lines, _lines + 1);
        Volatile.Write(ref _bytes, _bytes + bytes);
    }

    public void AddOversized() => Interlocked.Increment(ref _oversized);

    public void AddMalformed() => Interlocked.Increment(ref _malformed);

    public LogSenderStatistics Snapshot() => new(Address, Volatile.Read(ref _connections), Interlocked.Read(ref _totalConnections),
        Volatile.Read(ref _lines), Volatile.Read(ref _bytes), Interlocked.Read(ref _oversized), Interlocked.Read(ref _malformed));
}
