namespace HaproxyAutoscale.Logs;

/// <summary>
/// Splits a byte stream into lines in place, in one reusable buffer. A line longer than the maximum is skipped up
/// to its end and counted, so one huge line costs bounded memory and never stalls the stream.
/// </summary>
internal sealed class LineSplitter
{
    private const int BlockSize = 64 * 1024;

    private readonly int _maxLineLength;
    private readonly LogSourceCounters _counters;
    private byte[] _buffer = new byte[BlockSize];
    private int _start;
    private int _end;
    private bool _skippingOversized;

    public LineSplitter(int maxLineLength, LogSourceCounters counters)
    {
        _maxLineLength = maxLineLength;
        _counters = counters;
    }

    /// <summary>Returns free space to read into; call <see cref="Commit"/> with the number of bytes read.</summary>
    public Memory<byte> GetFreeSpace()
    {
        if (_skippingOversized)
        {
            // Everything held belongs to the line being skipped.
            _start = _end = 0;
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_buffer.Length - _end < BlockSize / 4)
        {
            if (_end >= _maxLineLength)
            {
                // The pending line is already too long: forget it and skip to its end.
                _counters.AddOversized();
                _skippingOversized = true;
                _end = 0;
            }
            else
            {
                Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, _maxLineLength + BlockSize));
            }
        }

        return _buffer.AsMemory(_end);
    }

    /// <summary>Accounts for <paramref name="count"/> bytes read into the free space and emits the complete lines.</summary>
    public void Commit(int count, LogLineHandler onLine)
    {
        int scanFrom = _end;
        _end += count;
        while (true)
        {
            int newline = _buffer.AsSpan(scanFrom, _end - scanFrom).IndexOf((byte)'\n');
            if (newline < 0)
            {
                return;
            }

            int lineEnd = scanFrom + newline;
            if (_skippingOversized)
            {
                _skippingOversized = false;
            }
            else
            {
                Emit(_buffer.AsSpan(_start, lineEnd - _start), onLine);
            }

            _start = scanFrom = lineEnd + 1;
        }
    }

    /// <summary>Emits an unterminated last line (end of a stream, or a rotated file that will not grow any more).</summary>
    public void Flush(LogLineHandler onLine)
    {
        if (_end > _start && !_skippingOversized)
        {
            Emit(_buffer.AsSpan(_start, _end - _start), onLine);
        }

        Reset();
    }

    /// <summary>Forgets any incomplete line (the file it came from was truncated).</summary>
    public void Reset()
    {
        _start = _end = 0;
        _skippingOversized = false;
    }

    private void Emit(ReadOnlySpan<byte> line, LogLineHandler onLine)
    {
        if (line.Length > _maxLineLength)
        {
            _counters.AddOversized();
            return;
        }

        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        _counters.AddLine();
        onLine(line);
    }
}
