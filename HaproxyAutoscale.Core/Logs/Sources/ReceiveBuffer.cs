namespace HaproxyAutoscale.Logs;

/// <summary>
/// One connection's received bytes not yet framed: reads are appended, framed messages are consumed from the front,
/// and the unframed rest (at most one message) moves to the front before the next read. It grows only when that rest
/// leaves less than a small read free: a message longer than a read, which the framer bounds by the longest message.
/// Not thread-safe.
/// </summary>
internal sealed class ReceiveBuffer(int readSize)
{
    private const int MinimumRead = 4096;

    private byte[] _bytes = new byte[readSize];
    private int _start;
    private int _end;

    /// <summary>The bytes received and not consumed.</summary>
    public ReadOnlyMemory<byte> Unread => _bytes.AsMemory(_start, _end - _start);

    /// <summary>Room for the next read, at most the read size.</summary>
    public Span<byte> Free()
    {
        int unread = _end - _start;
        if (_start > 0)
        {
            _bytes.AsSpan(_start, unread).CopyTo(_bytes);
            (_start, _end) = (0, unread);
        }

        if (_bytes.Length - _end < Math.Min(MinimumRead, readSize))
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _end + readSize));
        }

        return _bytes.AsSpan(_end, Math.Min(readSize, _bytes.Length - _end));
    }

    /// <summary>Appends the <paramref name="count"/> bytes the last read put into <see cref="Free"/>.</summary>
    public void Commit(int count) => _end += count;

    /// <summary>Drops the first <paramref name="count"/> unread bytes (framed and handed on).</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            (_start, _end) = (0, 0);
        }
    }
}
