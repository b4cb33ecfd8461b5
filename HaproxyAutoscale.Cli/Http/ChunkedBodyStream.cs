using System.Globalization;
using System.Net.Sockets;

namespace HaproxyAutoscale.Cli.Http;

/// <summary>
/// A response body sent as it is written, straight to the socket (nothing gathered: a writer with a pooled buffer sends
/// a scrape of any size in that buffer's pieces): one chunk per write for HTTP/1.1, the bytes as they are for an
/// HTTP/1.0 client (the body then ends with the connection). The response's head goes out with the first write.
/// Writes end at the deadline (the server then closes the socket, which also ends a synchronous write).
/// </summary>
internal sealed class ChunkedBodyStream : Stream
{
    private readonly Socket _socket;
    private readonly bool _chunked;
    private readonly CancellationToken _deadline;
    private readonly byte[] _prefix; // the head until it is sent, then "\r\n" ending the previous chunk, the next size in hex, "\r\n"
    private readonly int _headLength;

    public ChunkedBodyStream(Socket socket, byte[] head, bool chunked, CancellationToken deadline)
    {
        (_socket, _chunked, _deadline) = (socket, chunked, deadline);
        _prefix = new byte[head.Length + 32];
        head.CopyTo(_prefix, 0);
        _headLength = head.Length;
    }

    /// <summary>Whether anything (the head first) was sent: too late for another answer.</summary>
    public bool Started { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        _deadline.ThrowIfCancellationRequested();
        SendAll(Prefix(buffer.Length).Span);
        SendAll(buffer);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return;
        }

        using var both = CancellationTokenSource.CreateLinkedTokenSource(_deadline, cancellationToken);
        await _socket.SendAsync(Prefix(buffer.Length), SocketFlags.None, both.Token).ConfigureAwait(false);
        await _socket.SendAsync(buffer, SocketFlags.None, both.Token).ConfigureAwait(false);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Ends the body: the last chunk (with the head, if nothing was written).</summary>
    public async Task EndAsync() => await _socket.SendAsync(Prefix(0), SocketFlags.None, _deadline).ConfigureAwait(false);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // What goes before a chunk of this size (0: the last chunk): the head the first time, then the chunk's size line.
    private ReadOnlyMemory<byte> Prefix(int size)
    {
        int length = Started ? 0 : _headLength;
        if (_chunked)
        {
            if (Started)
            {
                "\r\n"u8.CopyTo(_prefix);
                length = 2;
            }

            size.TryFormat(_prefix.AsSpan(length), out int written, "x", CultureInfo.InvariantCulture);
            length += written;
            (size == 0 ? "\r\n\r\n"u8 : "\r\n"u8).CopyTo(_prefix.AsSpan(length));
            length += size == 0 ? 4 : 2;
        }

        Started = true;
        return _prefix.AsMemory(0, length);
    }

    private void SendAll(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[_socket.Send(bytes, SocketFlags.None)..];
        }
    }
}
