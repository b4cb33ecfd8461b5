using System.Buffers;

namespace HaproxyAutoscale.Logs;

/// <summary>
/// Cuts the bytes of one syslog TCP connection into messages. The framing is detected from the connection's first
/// bytes (digits followed by a space: octet counting; anything else: LF) and kept for the connection. A message
/// longer than the maximum is skipped without being held (counted as oversized); an octet count that is not a number
/// is malformed: the rest of the stream cannot be framed, so the caller closes the connection. One instance per
/// connection, not thread-safe.
/// </summary>
internal sealed class SyslogFramer
{
    private readonly int _maxLineLength;
    private byte[]? _scratch; // a message split across two buffer segments is copied here (rare)
    private long _skipRemaining; // octet counting: bytes of an oversized message still to skip
    private bool _skippingLine; // LF framing: inside an oversized line, skipping to its LF

    public SyslogFramer(int maxLineLength) => _maxLineLength = maxLineLength;

    public SyslogFraming Framing { get; private set; }

    /// <summary>Messages skipped because they were longer than the maximum.</summary>
    public long Oversized { get; private set; }

    /// <summary>Why the stream could not be framed, or <see langword="null"/>.</summary>
    public string? Malformed { get; private set; }

    /// <summary>
    /// Emits every complete message in <paramref name="buffer"/> to <paramref name="onMessage"/> and returns where the
    /// unconsumed rest starts. With <paramref name="final"/> (the sender closed) an unterminated last line is emitted
    /// too. After a malformed octet count, <see cref="Malformed"/> is set and nothing more is framed.
    /// </summary>
    public SequencePosition Frame<TSink>(in ReadOnlySequence<byte> buffer, bool final, ref TSink onMessage)
        where TSink : struct, IMessageSink
    {
        var reader = new SequenceReader<byte>(buffer);
        if (Framing == SyslogFraming.Unknown && (Framing = Detect(buffer, final)) == SyslogFraming.Unknown)
        {
            return buffer.Start;
        }

        if (Framing == SyslogFraming.OctetCounting)
        {
            FrameOctetCounted(ref reader, final, ref onMessage);
        }
        else
        {
            FrameLines(ref reader, final, ref onMessage);
        }

        return reader.Position;
    }

    /// <summary>The framing that <paramref name="start"/>, a connection's first bytes, shows; Unknown while too few have arrived.</summary>
    internal static SyslogFraming Detect(in ReadOnlySequence<byte> start, bool final)
    {
        if (start.IsEmpty)
        {
            return final ? SyslogFraming.LineFeed : SyslogFraming.Unknown;
        }

        Span<byte> head = stackalloc byte[OctetCount.MaxDigits + 1];
        int length = (int)Math.Min(start.Length, head.Length);
        start.Slice(0, length).CopyTo(head);
        head = head[..length];
        if (head[0] is < (byte)'1' or > (byte)'9')
        {
            return SyslogFraming.LineFeed; // '<' of a PRI, or a raw line
        }

        int digits = head.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (digits < 0)
        {
            // All digits so far: a length still arriving, unless there are more digits than any length has.
            return head.Length > OctetCount.MaxDigits || final ? SyslogFraming.LineFeed : SyslogFraming.Unknown;
        }

        // "174 <134>1 …" is octet counting; "127.0.0.1:4242 [date] …" (format raw) is a line.
        return head[digits] == (byte)' ' ? SyslogFraming.OctetCounting : SyslogFraming.LineFeed;
    }

    private void FrameOctetCounted<TSink>(ref SequenceReader<byte> reader, bool final, ref TSink onMessage)
        where TSink : struct, IMessageSink
    {
        while (Malformed is null)
        {
            if (_skipRemaining > 0)
            {
                long skip = Math.Min(_skipRemaining, reader.Remaining);
                reader.Advance(skip);
                _skipRemaining -= skip;
                if (_skipRemaining > 0)
                {
                    return;
                }
            }

            if (reader.End)
            {
                return;
            }

            SequencePosition frameStart = reader.Position;
            if (!reader.TryReadTo(out ReadOnlySpan<byte> digits, (byte)' '))
            {
                if (reader.Remaining > OctetCount.MaxDigits || final)
                {
                    Malformed = final && reader.Remaining <= OctetCount.MaxDigits ? "the stream ended inside an octet count" : "an octet count is not followed by a space";
                }

                return;
            }

            if (!OctetCount.TryParse(digits, out long length))
            {
                Malformed = $"'{OctetCount.Printable(digits)}' is not an octet count";
                return;
            }

            if (length > _maxLineLength)
            {
                Oversized++;
                _skipRemaining = length;
                continue;
            }

            if (reader.Remaining < length)
            {
                if (final)
                {
                    Malformed = $"the stream ended inside a message ({reader.Remaining} of {length} bytes)";
                }

                reader.Rewind(reader.Sequence.Slice(frameStart, reader.Position).Length);
                return;
            }

            ReadOnlySpan<byte> unread = reader.UnreadSpan;
            if (unread.Length >= length)
            {
                onMessage.OnMessage(SyslogTerminators.Trim(unread[..(int)length]));
            }
            else
            {
                onMessage.OnMessage(SyslogTerminators.Trim(Copy(reader.UnreadSequence.Slice(0, length))));
            }

            reader.Advance(length);
        }
    }

    private void FrameLines<TSink>(ref SequenceReader<byte> reader, bool final, ref TSink onMessage)
        where TSink : struct, IMessageSink
    {
        while (!reader.End)
        {
            if (_skippingLine)
            {
                if (!reader.TryAdvanceTo((byte)'\n'))
                {
                    reader.AdvanceToEnd();
                    return;
                }

                _skippingLine = false;
                continue;
            }

            ReadOnlySpan<byte> unread = reader.UnreadSpan;
            int newline = unread.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                // The common case: the whole line is in the current segment.
                Emit(unread[..newline], ref onMessage);
                reader.Advance(newline + 1);
                continue;
            }

            if (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                if (line.Length > _maxLineLength)
                {
                    Oversized++;
                }
                else
                {
                    Emit(Copy(line), ref onMessage);
                }

                continue;
            }

            if (reader.Remaining > _maxLineLength)
            {
                Oversized++;
                _skippingLine = true;
                reader.AdvanceToEnd();
                return;
            }

            if (final)
            {
                Emit(Copy(reader.UnreadSequence), ref onMessage);
                reader.AdvanceToEnd();
            }

            return;
        }
    }

    private void Emit<TSink>(ReadOnlySpan<byte> line, ref TSink onMessage)
        where TSink : struct, IMessageSink
    {
        if (line.Length > _maxLineLength)
        {
            Oversized++;
            return;
        }

        line = SyslogTerminators.Trim(line);
        if (!line.IsEmpty)
        {
            onMessage.OnMessage(line);
        }
    }

    private ReadOnlySpan<byte> Copy(in ReadOnlySequence<byte> message)
    {
        if (message.IsSingleSegment)
        {
            return message.FirstSpan;
        }

        if (_scratch is null || _scratch.Length < message.Length)
        {
            _scratch = new byte[Math.Max((int)message.Length, 4096)];
        }

        message.CopyTo(_scratch);
        return _scratch.AsSpan(0, (int)message.Length);
    }
}
